//! The row codec: an `accounts` row to an [`Account`] and back, with the OTP secret sealed
//! under associated data that binds it to its account and code parameters.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::crypto::SealingKey;
use super::error::damaged;
use super::{VaultError, push};
use crate::account::{Account, AccountId, OtpCredential};
use crate::otp::{Algorithm, OtpKind, OtpParams};
use crate::time::UnixTime;

/// The vault's time columns hold whole Unix seconds (`created_at`, `updated_at`,
/// `registered_at`, `last_sync_at`, ...); the push tables' `_ms` columns bind
/// [`UnixTime::as_millis`] explicitly instead.
impl rusqlite::ToSql for UnixTime {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_secs().into())
    }
}

impl rusqlite::types::FromSql for UnixTime {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        i64::column_result(v).map(UnixTime::from_secs)
    }
}

pub(super) struct StoredRow {
    id: String,
    issuer: String,
    label: String,
    otp_type: Option<String>,
    algorithm: Option<String>,
    digits: Option<i64>,
    period: Option<i64>,
    counter: Option<i64>,
    secret: Option<Vec<u8>>,
    sort_order: i64,
    group: Option<String>,
    note: Option<String>,
    extra: String,
    created_at: UnixTime,
    updated_at: UnixTime,
}

pub(super) const ACCOUNT_COLUMNS: &str = "id, issuer, label, otp_type, algorithm, digits, period, counter, \
     secret, sort_order, group_name, note, extra_params, created_at, updated_at";

impl StoredRow {
    pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(StoredRow {
            id: r.get(0)?,
            issuer: r.get(1)?,
            label: r.get(2)?,
            otp_type: r.get(3)?,
            algorithm: r.get(4)?,
            digits: r.get(5)?,
            period: r.get(6)?,
            counter: r.get(7)?,
            secret: r.get(8)?,
            sort_order: r.get(9)?,
            group: r.get(10)?,
            note: r.get(11)?,
            extra: r.get(12)?,
            created_at: r.get(13)?,
            updated_at: r.get(14)?,
        })
    }
}

/// The associated data that binds a sealed secret to its account and to the parameters that
/// decide its codes: moving it to another row, or editing `digits` on disk, makes it fail to open.
pub(super) fn secret_aad(id: &str, params: &OtpParams) -> Vec<u8> {
    use std::io::Write;
    // Written straight into one buffer: opening a vault builds one per account.
    let mut aad = Vec::with_capacity(64 + id.len());
    aad.extend_from_slice(b"authcore/account-secret/v1|");
    aad.extend_from_slice(id.as_bytes());
    // Writing into a Vec cannot fail.
    let _ = write!(
        aad,
        "|{}|{}|{}|",
        params.kind.type_name(),
        params.algorithm.as_str(),
        params.digits
    );
    match params.kind.period() {
        Some(p) => {
            let _ = write!(aad, "{p}");
        }
        None => aad.push(b'-'),
    }
    aad
}

/// HOTP counters are u64; SQLite integers are i64. The bit pattern is stored unchanged.
pub(super) fn counter_to_sql(counter: u64) -> i64 {
    i64::from_ne_bytes(counter.to_ne_bytes())
}

pub(super) fn counter_from_sql(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

pub(super) type ParamsColumns = (
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

pub(super) fn params_columns(params: Option<&OtpParams>) -> ParamsColumns {
    match params {
        None => (None, None, None, None, None),
        Some(params) => (
            Some(params.kind.type_name()),
            Some(params.algorithm.as_str()),
            Some(i64::from(params.digits)),
            params.kind.period().map(i64::from),
            params.kind.counter().map(counter_to_sql),
        ),
    }
}

/// Reads one account in `conn` (which may be a transaction in progress).
pub(super) fn read_account(
    conn: &Connection,
    key: &SealingKey,
    id: &AccountId,
) -> Result<Account, VaultError> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
        ))?
        .query_row([id.as_str()], StoredRow::from_row)
        .optional()?;
    let mut account = match row {
        Some(row) => decode(key, row)?,
        None => return Err(VaultError::NotFound { id: id.to_string() }),
    };
    account.push = push::credential(conn, id)?;
    check_has_credential(&account)?;
    Ok(account)
}

/// An account without any credential can only come from an altered file.
pub(super) fn check_has_credential(account: &Account) -> Result<(), VaultError> {
    if account.otp.is_none() && account.push.is_none() {
        return Err(damaged(format!(
            "account {} has neither an OTP nor a push credential",
            account.id
        )));
    }
    Ok(())
}

pub(super) fn decode(key: &SealingKey, row: StoredRow) -> Result<Account, VaultError> {
    let id = AccountId::parse(&row.id).map_err(|_| damaged("an account id is malformed"))?;
    let otp = decode_otp(key, &row)?;
    let bad = |field: &str| damaged(format!("account {}: field {field} is invalid", row.id));
    let extra_params: Vec<(String, String)> =
        serde_json::from_str(&row.extra).map_err(|_| bad("extra_params"))?;
    Ok(Account {
        id,
        issuer: row.issuer,
        label: row.label,
        otp,
        push: None,
        group: row.group,
        note: row.note,
        sort_order: row.sort_order,
        created_at: row.created_at,
        updated_at: row.updated_at,
        extra_params,
    })
}

/// The OTP credential of a row, or `None` for a push-only account.
pub(super) fn decode_otp(
    key: &SealingKey,
    row: &StoredRow,
) -> Result<Option<OtpCredential>, VaultError> {
    let bad = |field: &str| damaged(format!("account {}: field {field} is invalid", row.id));
    let (Some(otp_type), Some(algorithm), Some(digits), Some(sealed)) =
        (&row.otp_type, &row.algorithm, row.digits, &row.secret)
    else {
        return match (&row.otp_type, &row.secret) {
            (None, None) => Ok(None),
            _ => Err(bad("otp_type")),
        };
    };
    let algorithm = match algorithm.as_str() {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        _ => return Err(bad("algorithm")),
    };
    let digits = u8::try_from(digits).map_err(|_| bad("digits"))?;
    let period = || {
        row.period
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| bad("period"))
    };
    let kind = match otp_type.as_str() {
        "totp" => OtpKind::Totp { period: period()? },
        "steam" => OtpKind::Steam { period: period()? },
        "hotp" => OtpKind::Hotp {
            counter: counter_from_sql(row.counter.ok_or_else(|| bad("counter"))?),
        },
        _ => return Err(bad("otp_type")),
    };
    let params = OtpParams {
        kind,
        algorithm,
        digits,
    };
    let secret = key
        .open(sealed, &secret_aad(&row.id, &params))
        .map_err(|_| {
            damaged(format!(
                "the secret of account {} does not decrypt (altered on disk?)",
                row.id
            ))
        })?;
    OtpCredential::new(params, secret)
        .map(Some)
        .map_err(|_| bad("parameters"))
}

pub(super) fn insert_account(
    tx: &Transaction<'_>,
    key: &SealingKey,
    a: &Account,
) -> Result<(), VaultError> {
    let sealed = match &a.otp {
        None => None,
        Some(otp) => Some(
            key.seal(otp.secret.expose(), &secret_aad(a.id.as_str(), &otp.params))
                .map_err(|_| VaultError::Random)?,
        ),
    };
    let (otp_type, algorithm, digits, period, counter) =
        params_columns(a.otp.as_ref().map(|o| &o.params));
    let extra = serde_json::to_string(&a.extra_params).map_err(|e| VaultError::Storage {
        reason: e.to_string(),
    })?;
    tx.prepare_cached(&format!(
        "INSERT INTO accounts({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?
    .execute(params![
        a.id.as_str(),
        a.issuer,
        a.label,
        otp_type,
        algorithm,
        digits,
        period,
        counter,
        sealed,
        a.sort_order,
        a.group,
        a.note,
        extra,
        a.created_at,
        a.updated_at
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The associated data is part of the file format: docs/vault.md's examples, byte for byte.
    #[test]
    fn secret_aad_is_the_documented_string() {
        let id = "0b6e2b7a-5c1e-4a8e-9f7d-2f0d1c3b4a59";
        let totp = OtpParams {
            kind: OtpKind::Totp { period: 30 },
            algorithm: Algorithm::Sha1,
            digits: 6,
        };
        assert_eq!(
            secret_aad(id, &totp),
            format!("authcore/account-secret/v1|{id}|totp|SHA1|6|30").into_bytes()
        );
        let hotp = OtpParams {
            kind: OtpKind::Hotp { counter: 7 },
            ..totp
        };
        assert_eq!(
            secret_aad(id, &hotp),
            format!("authcore/account-secret/v1|{id}|hotp|SHA1|6|-").into_bytes()
        );
        let steam = OtpParams {
            kind: OtpKind::Steam { period: 30 },
            algorithm: Algorithm::Sha512,
            digits: 5,
        };
        assert_eq!(
            secret_aad(id, &steam),
            format!("authcore/account-secret/v1|{id}|steam|SHA512|5|30").into_bytes()
        );
    }
}
