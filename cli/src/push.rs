//! `authcore push ...`: push approvals from the desktop, on the same core as the phone apps.
//!
//! The CLI has no platform biometric prompt. It counts a vault unlocked with its password in
//! the same call (`--password-stdin`) as the user's confirmation that they are present, which
//! is what a passwordless approval needs; without it such an approval is refused.

use authcore::authenticator::{
    Authenticator, CLOCK_WARN_SECONDS, Decision, DeclineReason, UserPresence,
};
use authcore::clock::{Clock, SystemClock};
use authcore::time::UnixTime;
use serde_json::json;

use clap::{Subcommand, ValueEnum};

use crate::{CliError, render};

/// The core's push futures need no runtime: the reqwest transport runs its requests on its own,
/// and the CLI waits for each call on its main thread.
use authcore_http::block_on;

fn now() -> UnixTime {
    SystemClock.now()
}

#[derive(Subcommand, Debug)]
pub enum PushCommand {
    /// Enroll a push token from its QR code (otpauth://pipush/... or pia://pipush/..., eduMFA's
    /// edumfa-push://edumfa/...): takes a device key made ahead by `push prepare` (or makes
    /// one), registers it with the server, and stores the token.
    Enroll {
        uri: String,
        /// Attach the token to this existing account (its code stays the fallback) instead of
        /// creating a new one.
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        /// The push (FCM/APNs) token to register; without one the server is polled.
        #[arg(long, value_name = "TOKEN")]
        push_token: Option<String>,
        /// Size of the device's RSA key.
        #[arg(long, default_value_t = 4096, value_name = "BITS")]
        key_bits: usize,
        #[arg(long)]
        json: bool,
    },
    /// Check for requests ("check for notifications"): polls every push account's server and
    /// lists what waits for an answer.
    Pending {
        /// Only list the requests already received; ask no server.
        #[arg(long)]
        no_poll: bool,
        #[arg(long)]
        json: bool,
    },
    /// Approve a request.
    Approve {
        nonce: String,
        /// Number matching: the option the sign-in page shows.
        #[arg(long, value_name = "X")]
        answer: Option<String>,
        /// Whose passwordless rule applies.
        #[arg(long, default_value = "desktop")]
        platform: String,
        #[arg(long)]
        json: bool,
    },
    /// Deny a request, optionally saying why (if the server understands reasons).
    Deny {
        nonce: String,
        #[arg(long, value_enum)]
        reason: Option<DenyReason>,
    },
    /// Take in a push notification's data (JSON, as FCM/APNs or privacyIDEA's HTTP gateway
    /// deliver it) from a file or `-` for standard input, as the phone apps do.
    Notify {
        file: String,
        #[arg(long)]
        json: bool,
    },
    /// Tell every push account's server the device's new push token.
    Token { token: String },
    /// Make device keys ahead (sealed in the vault), so that a later `push enroll` does not
    /// wait a second or more for its RSA key.
    Prepare {
        /// How many keys to have ready (at most 8).
        #[arg(long, default_value_t = 1, value_name = "N")]
        count: usize,
        /// Size of the keys (what `push enroll --key-bits` will ask for).
        #[arg(long, default_value_t = 4096, value_name = "BITS")]
        key_bits: usize,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DenyReason {
    /// "This wasn't me": you did not start this sign-in (also accepted: unknown-trigger).
    #[value(name = "unknown_trigger", alias = "unknown-trigger")]
    UnknownTrigger,
    /// You started it but changed your mind.
    Cancelled,
}

pub fn run(
    auth: &Authenticator,
    command: PushCommand,
    unlocked_with_password: bool,
) -> Result<(), CliError> {
    match command {
        PushCommand::Enroll {
            uri,
            account,
            push_token,
            key_bits,
            json,
        } => {
            // The key size went into the authenticator's configuration at open.
            let _ = key_bits;
            let scanned = auth.scan_push_enrollment(uri.trim())?;
            let info =
                block_on(auth.enroll_push(scanned, push_token.as_deref(), account.as_deref()))?;
            if json {
                render::print_json(&render::account_json(&info));
            } else {
                println!(
                    "Enrolled push token {} for {} ({})",
                    info.push_serial.as_deref().unwrap_or("?"),
                    render::name(&info.issuer, &info.label),
                    info.id
                );
            }
        }
        PushCommand::Prepare { count, key_bits } => {
            // The key size went into the authenticator's configuration at open.
            let ready = block_on(auth.prepare_device_keys(count))?;
            println!("{ready} spare {key_bits}-bit device key(s) ready");
        }
        PushCommand::Pending { no_poll, json } => {
            let requests = if no_poll {
                auth.pending_push_requests()?
            } else {
                let outcome = block_on(auth.check_pending())?;
                for problem in &outcome.problems {
                    eprintln!("authcore: warning: {problem}");
                }
                for clock in &outcome.server_clocks {
                    let offset = (clock.offset_ms as f64 / 1000.0).round() as i64;
                    if offset.abs() > CLOCK_WARN_SECONDS {
                        eprintln!(
                            "authcore: warning: this computer's clock is {offset} s off the clock of {}; that server's requests and the codes it checks use its time (see `authcore codes`)",
                            clock.server
                        );
                    }
                }
                outcome.requests
            };
            if json {
                render::print_json(&json!(
                    requests
                        .iter()
                        .map(render::push_request_json)
                        .collect::<Vec<_>>()
                ));
            } else if requests.is_empty() {
                println!("No push requests waiting.");
            } else {
                let now = now();
                for r in &requests {
                    print!("{}", render::push_request_text(r, now));
                }
            }
        }
        PushCommand::Approve {
            nonce,
            answer,
            platform,
            json,
        } => {
            // The platform went into the authenticator's configuration at open.
            let _ = platform;
            let presence = if unlocked_with_password {
                UserPresence::DeviceUnlocked
            } else {
                UserPresence::NotVerified
            };
            let outcome =
                block_on(auth.answer_push(nonce.trim(), Decision::Approve { answer }, presence))?;
            if json {
                render::print_json(&json!({
                    "nonce": nonce.trim(),
                    "status": "approved",
                    "display_code": outcome.display_code,
                    "message": outcome.message,
                }));
            } else {
                println!("Approved.");
                if let Some(code) = &outcome.display_code {
                    println!(
                        "{}: {code}",
                        outcome
                            .message
                            .as_deref()
                            .unwrap_or("Enter this code on the sign-in page")
                    );
                }
            }
        }
        PushCommand::Deny { nonce, reason } => {
            let reason = reason.map(|r| match r {
                DenyReason::UnknownTrigger => DeclineReason::UnknownTrigger,
                DenyReason::Cancelled => DeclineReason::Cancelled,
            });
            block_on(auth.answer_push(
                nonce.trim(),
                Decision::Deny { reason },
                UserPresence::NotVerified,
            ))?;
            println!("Denied.");
        }
        PushCommand::Notify { file, json } => {
            let payload = read_input(&file)?;
            let request = auth.handle_notification(&payload)?;
            if json {
                render::print_json(&render::push_request_json(&request));
            } else {
                print!("{}", render::push_request_text(&request, now()));
            }
        }
        PushCommand::Token { token } => {
            let (updated, problems) = block_on(auth.update_push_token(token.trim()))?;
            for problem in &problems {
                eprintln!("authcore: warning: {problem}");
            }
            println!("Push token updated for {} token(s)", updated.len());
            if !problems.is_empty() {
                return Err(CliError::Failed(format!(
                    "{} server(s) did not take the new token",
                    problems.len()
                )));
            }
        }
    }
    Ok(())
}

fn read_input(file: &str) -> Result<zeroize::Zeroizing<String>, CliError> {
    if file == "-" {
        crate::input::stdin_text("standard input")
    } else {
        crate::input::file_text(file, "notification file")
    }
}
