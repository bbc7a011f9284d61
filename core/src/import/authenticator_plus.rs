//! Authenticator Plus: its export, a zip (ZipCrypto, the app's master password) holding
//! `Accounts.txt` of otpauth URIs; and its backup `authplus.db`, the app's SQLite database
//! encrypted by SQLCipher 3 with the master password (decrypted in `sqlcipher.rs`, then opened
//! from memory like the other apps' databases).
//!
//! The database descends from Google Authenticator's: `accounts` with `email` (the name),
//! base32 `secret`, `counter`, `type` (0 TOTP, 1 HOTP, 2 Battle.net with a hex secret and
//! 8 digits), `issuer`, `original_name` (`issuer:name`, or a Battle.net serial), `category`
//! (`All Accounts` for none) and `position`. It keeps no algorithm, digits or period: the app
//! has SHA-1, 6 digits and 30 s only, beyond Battle.net's 8 digits.

use zeroize::Zeroizing;

use super::entry::{Draft, SecretIn, Sink};
use super::{ImportError, archive, sqlcipher, sqlite, uris};

/// The name of the export's one file.
pub(crate) const ACCOUNTS_FILE: &str = "Accounts.txt";

pub(crate) fn is_accounts_file(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.eq_ignore_ascii_case(ACCOUNTS_FILE)
}

pub(crate) fn read_export(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let files = archive::text_files(bytes, password, is_accounts_file, sink)?;
    let Some(file) = files.first() else {
        return Err(sink.damaged("zip archive", format!("it holds no {ACCOUNTS_FILE}")));
    };
    let lines: Vec<(usize, &str)> = file
        .text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    uris::read_lines(&lines, &format!("{ACCOUNTS_FILE} line"), sink)
}

const NO_CATEGORY: &str = "All Accounts";

pub(crate) fn read_db(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let password = password.ok_or_else(|| sink.password_needed())?;
    let plain = sqlcipher::decrypt_v3(bytes, password, sink)?;
    let conn = sqlite::open(&plain, sink)?;
    let rows = sqlite::query(
        &conn,
        "SELECT email, secret, counter, type, issuer, original_name, category FROM accounts ORDER BY position, _id",
        sink,
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                Zeroizing::new(r.get::<_, Option<String>>(1)?.unwrap_or_default()),
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            ))
        },
    )?;
    for (email, secret, counter, kind, issuer, original, category) in rows {
        // The issuer column, else the prefix of `issuer:name`.
        let issuer = if issuer.trim().is_empty() {
            original
                .split_once(':')
                .map(|(i, _)| i.trim().to_owned())
                .unwrap_or_default()
        } else {
            issuer
        };
        let group = Some(category).filter(|c| !c.trim().is_empty() && c != NO_CATEGORY);
        match kind.unwrap_or(0) {
            0 | 1 => {
                let hotp = kind == Some(1);
                sink.add(Draft {
                    issuer,
                    label: email,
                    otp_type: if hotp { "hotp" } else { "totp" }.into(),
                    counter: if hotp { counter } else { None },
                    secret: SecretIn::base32(&secret),
                    group,
                    ..Draft::default()
                });
            }
            2 => sink.add(Draft {
                issuer,
                label: email,
                otp_type: "totp".into(),
                digits: Some(8),
                secret: SecretIn::hex(&secret),
                group,
                // The serial is what Battle.net shows for the authenticator.
                note: Some(original)
                    .filter(|o| !o.trim().is_empty())
                    .map(|serial| format!("Battle.net serial {serial}")),
                ..Draft::default()
            }),
            n => sink.skip(&issuer, &email, "", format!("unknown account type {n}")),
        }
    }
    Ok(())
}
