//! The code list as a screen refreshing every second needs it: the stable rows (ids, names,
//! kind, period, clock correction) fetched when their version moves, and each second only the
//! codes and countdowns, packed into byte buffers so that no string crosses per row.
//!
//! Why bytes: lifting a string costs Kotlin (JNA) and Swift a few microseconds each (Swift's
//! generated reader most), so `codes()` of 100 accounts (five strings a row) costs ten times the
//! core's work, and ticks as records of two strings still cost Swift 20 times what one buffer
//! does (docs/benchmarks.md, "Across the FFI"). A buffer is one copy. The codes and the
//! countdowns are two buffers because they move at different rates: the countdowns every
//! second, the codes once a period, so a layer compares `codes` with the last one it decoded
//! (one `memcmp`) and, when equal, keeps every code string and reads only `valid_for`
//! (`CodeList.kt`, `CodeList.swift`). Those layers call `code_ticks_on` only when a row's step
//! rolled over: in between they ask `list_version()` and count down themselves.
//!
//! `CodeTicks.valid_for`: per row, in `code_list`'s order, 4 bytes little-endian, the whole
//! seconds the code stays valid (1..=period).
//!
//! `CodeTicks.codes`: per row, in the same order:
//!
//! | bytes | what |
//! |---|---|
//! | 1 | length of the code, 5..=10 |
//! | n | the code, ASCII (digits, or Steam's letters and digits) |
//! | 1 | length of the next code |
//! | n | the next code, ASCII |

use authcore::authenticator::{CodeClock, CodeList as CoreCodeList, CodeTick};

use crate::Authenticator;
use crate::convert::OtpType;
use crate::errors::AuthCoreError;
use authcore::time::UnixTime;

type Result<T> = std::result::Result<T, AuthCoreError>;

/// What a code list row shows that changes only with the accounts or a clock correction.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeListRow {
    pub id: String,
    pub issuer: String,
    pub label: String,
    pub otp_type: OtpType,
    /// Seconds per code.
    pub period: u32,
    /// Characters per code.
    pub digits: u8,
    /// Seconds added to the device clock for this row's codes (see `AccountCode`).
    pub clock_offset: i64,
    pub clock_from_server: bool,
}

/// The time-based accounts in the user's order (the rows `codes()` lists), as of `version`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeListRows {
    pub version: u64,
    pub rows: Vec<CodeListRow>,
}

/// Each row's countdown, code and next code, for the rows of `version`, packed (module docs).
/// When `version` is not the one of the rows the caller holds, it fetches `code_list()` again
/// and ignores these ticks.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeTicks {
    pub version: u64,
    pub valid_for: Vec<u8>,
    pub codes: Vec<u8>,
}

impl From<CoreCodeList> for CodeListRows {
    fn from(list: CoreCodeList) -> Self {
        CodeListRows {
            version: list.version,
            rows: list
                .rows
                .into_iter()
                .map(|r| CodeListRow {
                    id: r.id.to_string(),
                    issuer: r.issuer,
                    label: r.label,
                    otp_type: r.kind.into(),
                    period: r.period,
                    digits: r.digits,
                    clock_offset: r.clock_offset.seconds(),
                    clock_from_server: matches!(r.clock_offset, CodeClock::Server(_)),
                })
                .collect(),
        }
    }
}

/// The layout of the module docs.
pub(crate) fn pack(version: u64, ticks: &[CodeTick]) -> CodeTicks {
    let mut valid_for = Vec::with_capacity(ticks.len() * 4);
    // 1 + 6 + 1 + 6 for the usual six digits.
    let mut codes = Vec::with_capacity(ticks.len() * 14);
    for tick in ticks {
        valid_for.extend_from_slice(&tick.valid_for.to_le_bytes());
        for code in [&tick.code, &tick.next_code] {
            let bytes = code.as_str().as_bytes();
            // A code has at most 10 characters.
            codes.push(bytes.len() as u8);
            codes.extend_from_slice(bytes);
        }
    }
    CodeTicks {
        version,
        valid_for,
        codes,
    }
}

#[uniffi::export]
impl Authenticator {
    /// The code list's stable rows and their version: fetch once, and again when `code_ticks_on`
    /// reports another version.
    pub fn code_list(&self) -> Result<CodeListRows> {
        Ok(self.inner.code_list()?.into())
    }

    /// What moved since the list was fetched, at the device time `device_unix_seconds` (as the
    /// time source reads), each row's correction applied: the version, and every row's
    /// countdown, code and next code, packed. The layers read the time source once, count the
    /// seconds down from that reading themselves, and ask for codes only when a row's step
    /// moved.
    pub fn code_ticks_on(&self, device_unix_seconds: UnixTime) -> Result<CodeTicks> {
        let mut ticks = Vec::new();
        let version = self.inner.code_ticks_on(device_unix_seconds, &mut ticks)?;
        Ok(pack(version, &ticks))
    }

    /// The version `code_ticks` would report now.
    pub fn list_version(&self) -> Result<u64> {
        Ok(self.inner.list_version()?)
    }
}

#[cfg(test)]
mod tests {
    use authcore::otp::{Algorithm, Generator, OtpParams};
    use authcore::secret::Secret;

    use super::*;

    #[test]
    fn packed_ticks_follow_the_documented_layout() {
        let rfc = Secret::from_slice(b"12345678901234567890");
        let totp = Generator::new(OtpParams::totp(Algorithm::Sha1, 8, 30), &rfc).unwrap();
        let steam = Generator::new(OtpParams::steam(), &rfc).unwrap();
        let ticks = [
            CodeTick {
                code: totp.code_for_counter(1),
                next_code: totp.code_for_counter(2),
                valid_for: 1,
            },
            CodeTick {
                code: steam.code_for_counter(1),
                next_code: steam.code_for_counter(2),
                valid_for: 300,
            },
        ];
        let packed = pack(7, &ticks);
        assert_eq!(packed.version, 7);
        assert_eq!(packed.valid_for, [1, 0, 0, 0, 44, 1, 0, 0]);
        // RFC 6238's vector at 59 s is counter 1: 94287082.
        assert_eq!(&packed.codes[..9], b"\x0894287082");
        let mut expected = vec![8];
        expected.extend_from_slice(b"94287082");
        expected.push(8);
        expected.extend_from_slice(ticks[0].next_code.as_str().as_bytes());
        expected.push(5);
        expected.extend_from_slice(ticks[1].code.as_str().as_bytes());
        expected.push(5);
        expected.extend_from_slice(ticks[1].next_code.as_str().as_bytes());
        assert_eq!(packed.codes, expected);
        let empty = pack(1, &[]);
        assert!(empty.valid_for.is_empty() && empty.codes.is_empty());
    }
}
