//! What each subcommand does: open the vault, call the core, render.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use authcore::authenticator::Authenticator;
use authcore::clock::{self, Clock, SystemClock};
use authcore::policy::Platform;
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, KdfParams, Unlock, Vault};
use serde_json::json;
use zeroize::Zeroizing;

use crate::home::Home;
use crate::render;
use crate::{Cli, CliError, Command, PasswordCommand, PasswordlessCommand, TimeCommand};
use authcore::authenticator::{Config, DeviceKeys};

pub fn run(cli: Cli) -> Result<(), CliError> {
    let home = Home::resolve(cli.home.clone()).map_err(CliError::Failed)?;
    let config = config_for(&cli.command)?.with_logger(crate::log::stderr(cli.log.as_deref()));
    // Under `backup`, and `export --format aegis` without --file-password-stdin,
    // --password-stdin is the file's password, not the vault's (the spelling: the
    // commands that write or read a password-protected file).
    let file_password = match &cli.command {
        Command::Backup { .. } => true,
        Command::Export(args) => {
            args.format == crate::export::ExportFormat::Aegis && !args.file_password_stdin
        }
        _ => false,
    };
    let vault_password = cli.password_stdin && !file_password;
    let auth = open(&home, vault_password, config)?;
    match cli.command {
        Command::Add { uri, qr, json } => match qr {
            Some(image) => crate::import::add_qr(&auth, &image, json),
            None => add(&auth, uri.as_deref().unwrap_or("-"), json),
        },
        Command::Import {
            file,
            format,
            file_password_stdin,
            dry_run,
            all_or_nothing,
            json,
        } => crate::import::import(
            &auth,
            crate::import::ImportArgs {
                file,
                format,
                file_password_stdin,
                dry_run,
                all_or_nothing,
                json,
            },
        ),
        Command::List { json } => {
            let accounts = auth.accounts()?;
            if json {
                render::print_json(&json!(
                    accounts
                        .iter()
                        .map(render::account_json)
                        .collect::<Vec<_>>()
                ));
            } else {
                print!("{}", render::accounts_table(&accounts));
            }
            Ok(())
        }
        Command::Codes { query, at, json } => {
            let codes = auth.codes(query.as_deref(), at.map(UnixTime::from_secs))?;
            if let Some(q) = query.as_deref()
                && codes.is_empty()
                && auth.search(q)?.is_empty()
            {
                return Err(CliError::BadInput(format!("no account matches '{q}'")));
            }
            if json {
                render::print_json(&json!(
                    codes.iter().map(render::code_json).collect::<Vec<_>>()
                ));
            } else if codes.is_empty() {
                println!("No time-based accounts. Add one with `authcore add <otpauth URI>`.");
            } else {
                print!("{}", render::codes_table(&codes));
            }
            Ok(())
        }
        Command::Next { id, json } => {
            let code = auth.next_hotp(&id)?;
            if json {
                render::print_json(&render::hotp_json(&code));
            } else {
                println!(
                    "{}  (counter {})",
                    render::grouped(&code.code),
                    code.counter
                );
            }
            Ok(())
        }
        Command::Rename {
            id,
            issuer,
            label,
            json,
        } => {
            if issuer.is_none() && label.is_none() {
                return Err(CliError::BadInput(
                    "rename: give --issuer and/or --label".into(),
                ));
            }
            let info = auth.rename(&id, issuer, label)?;
            if json {
                render::print_json(&render::account_json(&info));
            } else {
                println!("Renamed to {}", render::name(&info.issuer, &info.label));
            }
            Ok(())
        }
        Command::Group { id, name } => {
            let info = auth.set_group(&id, name)?;
            match &info.group {
                Some(g) => println!(
                    "{} is in group {g}",
                    render::name(&info.issuer, &info.label)
                ),
                None => println!("{} is in no group", render::name(&info.issuer, &info.label)),
            }
            Ok(())
        }
        Command::Note { id, text } => {
            let info = auth.set_note(&id, text)?;
            println!(
                "{} note {}",
                render::name(&info.issuer, &info.label),
                if info.note.is_some() {
                    "saved"
                } else {
                    "cleared"
                }
            );
            Ok(())
        }
        Command::Move { id, position } => {
            let info = auth.move_to(&id, position)?;
            println!(
                "{} is now at position {position}",
                render::name(&info.issuer, &info.label)
            );
            Ok(())
        }
        Command::Rm { id, json } => {
            let info = auth.delete(&id)?;
            if json {
                render::print_json(&render::account_json(&info));
            } else {
                println!("Deleted {}", render::name(&info.issuer, &info.label));
            }
            Ok(())
        }
        Command::Export(mut args) => {
            args.file_password_stdin |= cli.password_stdin && file_password;
            crate::export::export(&auth, args)
        }
        Command::Qr(args) => crate::export::qr(&auth, args),
        Command::Watch { query, frames } => watch(&auth, query.as_deref(), frames),
        Command::Time { command } => time(&auth, command),
        Command::Password { command } => password(&auth, command),
        Command::Passwordless { command } => passwordless(&auth, command),
        Command::Push { command } => crate::push::run(&auth, command, cli.password_stdin),
        Command::Backup { command } => crate::backup::run(&auth, command, cli.password_stdin),
        Command::Reenroll { json } => crate::backup::reenroll(&auth, json),
        Command::Container { command } => crate::container::run(&auth, command),
    }
}

fn platform(name: &str) -> Result<Platform, CliError> {
    Platform::parse(name).map_err(|e| authcore::authenticator::AuthError::from(e).into())
}

fn passwordless(auth: &Authenticator, command: PasswordlessCommand) -> Result<(), CliError> {
    match command {
        PasswordlessCommand::Show { platform: p, json } => {
            let p = platform(&p)?;
            let rule = auth.passwordless_rule(p)?;
            let holders: Vec<_> = auth
                .accounts()?
                .into_iter()
                .filter(|a| a.passwordless)
                .collect();
            if json {
                // The rule's own fields (its `Serialize`, the rules' JSON format), then which
                // platform and who holds it.
                let mut shown = render::record_json(&rule);
                shown["platform"] = json!(p.as_str());
                shown["accounts"] =
                    json!(holders.iter().map(render::account_json).collect::<Vec<_>>());
                render::print_json(&shown);
            } else {
                let limit = rule.max_accounts.map_or_else(
                    || "any number of accounts".to_owned(),
                    |m| format!("at most {m}"),
                );
                println!("{}: passwordless for {limit}", p.as_str());
                for a in &holders {
                    println!("  on: {}", render::name(&a.issuer, &a.label));
                }
                if holders.is_empty() {
                    println!("  no account has it on");
                }
            }
        }
        PasswordlessCommand::Enable { id, platform: p } => {
            let a = auth.enable_passwordless(&id, platform(&p)?)?;
            println!(
                "Passwordless is on for {}",
                render::name(&a.issuer, &a.label)
            );
        }
        PasswordlessCommand::Disable { id } => {
            let a = auth.disable_passwordless(&id)?;
            println!(
                "Passwordless is off for {}",
                render::name(&a.issuer, &a.label)
            );
        }
        PasswordlessCommand::Move {
            from,
            to,
            platform: p,
        } => {
            let a = auth.move_passwordless(&from, &to, platform(&p)?)?;
            println!(
                "Passwordless moved to {}",
                render::name(&a.issuer, &a.label)
            );
        }
        PasswordlessCommand::Rules { json, reset } => {
            auth.set_passwordless_rules(if reset { None } else { json.as_deref() })?;
            println!(
                "Passwordless rules {}",
                if reset {
                    "reset to the defaults"
                } else {
                    "replaced"
                }
            );
        }
    }
    Ok(())
}

/// What the vault is opened with: the desktop's set-up, with the platform and key size a push
/// command names (fixed for the one call the CLI makes), and the reqwest transport only for
/// commands that talk to a server. No spare device keys are made in the background (a key
/// started at open would be abandoned when the command ends): `push enroll` takes one made
/// ahead by `push prepare`, or makes its own.
fn config_for(command: &Command) -> Result<Config, CliError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let online = |clock| -> Result<Config, CliError> {
        let transport =
            authcore_http::ReqwestTransport::new().map_err(|e| CliError::Failed(e.to_string()))?;
        Ok(Config::desktop(clock, Arc::new(transport)))
    };
    let command = match command {
        Command::Push { command } => command,
        Command::Container { command } => {
            return match command {
                crate::container::ContainerCommand::List { .. }
                | crate::container::ContainerCommand::Forget { .. } => Ok(Config::offline(clock)),
                _ => online(clock),
            };
        }
        _ => return Ok(Config::offline(clock)),
    };
    let mut config = online(clock)?;
    match command {
        crate::push::PushCommand::Enroll { key_bits, .. }
        | crate::push::PushCommand::Prepare { key_bits, .. } => {
            config.device_keys = DeviceKeys::Software { bits: *key_bits };
        }
        crate::push::PushCommand::Approve { platform, .. } => {
            config.platform =
                Platform::parse(platform).map_err(|e| CliError::BadInput(e.to_string()))?;
        }
        _ => {}
    }
    Ok(config)
}

fn open(home: &Home, password_stdin: bool, config: Config) -> Result<Authenticator, CliError> {
    let vault = home.vault();
    if password_stdin {
        let password = read_secret_line()?;
        return Ok(Authenticator::open(
            &vault,
            Unlock::Password(&password),
            config,
        )?);
    }
    home.ensure().map_err(CliError::Failed)?;
    let key_file = home.key_file();
    if Vault::exists(&vault) {
        if !key_file.exists() {
            return Err(CliError::Failed(format!(
                "the key file {} is missing: restore it, or unlock with --password-stdin",
                key_file.display()
            )));
        }
        let key_store =
            FileKeyStore::open(&key_file).map_err(|e| CliError::Failed(e.to_string()))?;
        Ok(Authenticator::open(
            &vault,
            Unlock::KeyStore(&key_store),
            config,
        )?)
    } else {
        let key_store =
            FileKeyStore::open_or_create(&key_file).map_err(|e| CliError::Failed(e.to_string()))?;
        Ok(Authenticator::create(&vault, &key_store, None, config)?)
    }
}

fn read_secret_line() -> Result<Zeroizing<String>, CliError> {
    let trimmed = crate::input::stdin_line("the password on standard input")?;
    if trimmed.is_empty() {
        return Err(CliError::BadInput(
            "password: the first line of standard input is empty".into(),
        ));
    }
    Ok(trimmed)
}

fn add(auth: &Authenticator, uri: &str, json: bool) -> Result<(), CliError> {
    let added = if uri == "-" {
        let text = crate::input::stdin_text("standard input")?;
        auth.add_uri_lines(&text)?
    } else {
        auth.add_uri(uri)?
    };
    if json {
        render::print_json(&render::added_json(&added));
    } else {
        let codes = auth.codes(None, None)?;
        print!("{}", render::added_text(&added, &codes));
    }
    Ok(())
}

fn watch(auth: &Authenticator, query: Option<&str>, frames: Option<u32>) -> Result<(), CliError> {
    let mut shown = 0u32;
    let mut out = io::stdout();
    loop {
        let codes = auth.codes(query, None)?;
        let width = render::name_width(codes.iter().map(|c| (c.issuer.as_str(), c.label.as_str())));
        let mut screen = String::from("\x1b[H\x1b[2J");
        screen.push_str("authcore watch: Ctrl-C to quit\n\n");
        if codes.is_empty() {
            screen.push_str("No time-based accounts.\n");
        }
        for c in &codes {
            screen.push_str(&render::watch_row(c, width));
            screen.push('\n');
        }
        out.write_all(screen.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Failed(e.to_string()))?;
        shown += 1;
        if frames.is_some_and(|f| shown >= f) {
            return Ok(());
        }
        // Wake just after the next whole second so the countdown ticks in step with the codes.
        let to_next = 1_000
            - SystemClock
                .now()
                .as_millis()
                .rem_euclid(1_000)
                .unsigned_abs();
        std::thread::sleep(Duration::from_millis(to_next + 5));
    }
}

fn time(auth: &Authenticator, command: TimeCommand) -> Result<(), CliError> {
    match command {
        TimeCommand::Show { json } => {
            let system = SystemClock.now();
            let offset = auth.clock_offset()?;
            let corrected = clock::corrected(system, offset);
            if json {
                render::print_json(&json!({
                    "system_time": system,
                    "offset_seconds": offset,
                    "corrected_time": corrected,
                }));
            } else {
                println!("system time     {}", system.as_secs());
                println!("offset          {offset:+} s");
                println!("codes use       {}", corrected.as_secs());
            }
            Ok(())
        }
        TimeCommand::SetOffset { seconds } => {
            let offset =
                clock::parse_offset(&seconds).map_err(|e| CliError::BadInput(e.to_string()))?;
            auth.set_clock_offset(offset)?;
            println!("Codes now use the system time {offset:+} s");
            Ok(())
        }
    }
}

fn password(auth: &Authenticator, command: PasswordCommand) -> Result<(), CliError> {
    match command {
        PasswordCommand::Set => {
            let password = read_secret_line()?;
            auth.set_password(&password, KdfParams::default())?;
            println!("Password set: it can now unlock this vault (--password-stdin)");
        }
        PasswordCommand::Remove => {
            auth.remove_password()?;
            println!("Password removed: only the key file unlocks this vault now");
        }
        PasswordCommand::Status => {
            if auth.has_password()? {
                println!("A password can unlock this vault");
            } else {
                println!("No password: only the key file unlocks this vault");
            }
        }
    }
    Ok(())
}
