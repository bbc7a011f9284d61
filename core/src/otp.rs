//! `otp`: one-time codes from (parameters, secret, time or counter): TOTP (RFC 6238), HOTP
//! (RFC 4226) and Steam Guard. Pure: time and counters are arguments, nothing is read or stored.
//!
//! A [`Generator`] keys its HMAC once (the hash states after the inner and outer pad blocks) and
//! copies only those two states per code: a code costs the two compressions a one-block message
//! needs, two blocks filled in place, and no allocation (the `authcore-hotp` crate, hotp/).

use std::fmt;

use serde::Serialize;

use crate::secret::Secret;
use crate::time::UnixTime;

/// The HMAC hash of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The spelling otpauth URIs use: `SHA1`, `SHA256`, `SHA512`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind of code, with the moving factor it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpKind {
    /// Time-based: the counter is `floor(unix_time / period)`.
    Totp { period: u32 },
    /// Counter-based: `counter` is the value the *next* code will use.
    Hotp { counter: u64 },
    /// Steam Guard: TOTP written as 5 characters of Steam's alphabet.
    Steam { period: u32 },
}

impl OtpKind {
    /// `totp`, `hotp` or `steam`.
    pub fn type_name(&self) -> &'static str {
        match self {
            OtpKind::Totp { .. } => "totp",
            OtpKind::Hotp { .. } => "hotp",
            OtpKind::Steam { .. } => "steam",
        }
    }

    pub fn period(&self) -> Option<u32> {
        match *self {
            OtpKind::Totp { period } | OtpKind::Steam { period } => Some(period),
            OtpKind::Hotp { .. } => None,
        }
    }

    pub fn counter(&self) -> Option<u64> {
        match *self {
            OtpKind::Hotp { counter } => Some(counter),
            _ => None,
        }
    }
}

/// Everything but the secret that decides a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtpParams {
    pub kind: OtpKind,
    pub algorithm: Algorithm,
    pub digits: u8,
}

/// Fewest and most digits for TOTP/HOTP. Truncation yields 31 bits, so more than 10 digits would
/// only add leading zeros; fewer than 6 is not something any issuer uses.
pub const MIN_DIGITS: u8 = 6;
pub const MAX_DIGITS: u8 = 10;
/// Steam codes are always this long.
pub const STEAM_DIGITS: u8 = 5;
pub const DEFAULT_PERIOD: u32 = 30;

impl OtpParams {
    /// TOTP with the given parameters (not yet validated).
    pub fn totp(algorithm: Algorithm, digits: u8, period: u32) -> Self {
        OtpParams {
            kind: OtpKind::Totp { period },
            algorithm,
            digits,
        }
    }

    pub fn hotp(algorithm: Algorithm, digits: u8, counter: u64) -> Self {
        OtpParams {
            kind: OtpKind::Hotp { counter },
            algorithm,
            digits,
        }
    }

    /// Steam Guard: SHA-1, 5 characters, 30 s.
    pub fn steam() -> Self {
        OtpParams {
            kind: OtpKind::Steam {
                period: DEFAULT_PERIOD,
            },
            algorithm: Algorithm::Sha1,
            digits: STEAM_DIGITS,
        }
    }

    /// Refuses any combination that would produce a wrong or meaningless code.
    pub fn validate(&self) -> Result<(), OtpError> {
        match self.kind {
            OtpKind::Steam { period } => {
                if self.digits != STEAM_DIGITS {
                    return Err(OtpError::Digits {
                        digits: self.digits,
                        reason: "Steam codes have exactly 5 characters",
                    });
                }
                check_period(period)
            }
            OtpKind::Totp { period } => {
                check_digits(self.digits)?;
                check_period(period)
            }
            OtpKind::Hotp { .. } => check_digits(self.digits),
        }
    }
}

fn check_digits(digits: u8) -> Result<(), OtpError> {
    if (MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        Ok(())
    } else {
        Err(OtpError::Digits {
            digits,
            reason: "must be between 6 and 10",
        })
    }
}

fn check_period(period: u32) -> Result<(), OtpError> {
    if period == 0 {
        Err(OtpError::Period { period })
    } else {
        Ok(())
    }
}

/// Why parameters cannot make codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    #[error("digits={digits}: {reason}")]
    Digits { digits: u8, reason: &'static str },
    #[error("period={period}: must be at least 1 second")]
    Period { period: u32 },
    #[error("secret: is empty")]
    EmptySecret,
    #[error("this is a HOTP credential: it has no time-based code (advance its counter instead)")]
    NotTimeBased,
}

/// A code as shown to the user: up to 10 ASCII characters, stored inline (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    chars: [u8; MAX_DIGITS as usize],
    len: u8,
}

impl Code {
    /// A code given as text (ASCII letters and digits, at most ten), as another system showed
    /// it; `None` otherwise.
    pub fn from_text(text: &str) -> Option<Code> {
        let bytes = text.as_bytes();
        if bytes.is_empty()
            || bytes.len() > usize::from(MAX_DIGITS)
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
        {
            return None;
        }
        let mut chars = [0u8; MAX_DIGITS as usize];
        chars[..bytes.len()].copy_from_slice(bytes);
        Some(Code {
            chars,
            len: bytes.len() as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits or Steam's ASCII alphabet are ever written.
        std::str::from_utf8(&self.chars[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({})", self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// As its text: the CLI's JSON shows a code as a string.
impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A time-based code with what the user reads beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpCode {
    pub code: Code,
    /// Seconds until `code` expires (1..=period).
    pub valid_for: u32,
    /// The code of the following period, shown so the user need not wait out the countdown.
    pub next_code: Code,
    /// The time step `code` belongs to.
    pub time_step: u64,
}

fn keyed_mac(algorithm: Algorithm, key: &[u8]) -> KeyedMac {
    let hash = match algorithm {
        Algorithm::Sha1 => Hash::Sha1,
        Algorithm::Sha256 => Hash::Sha256,
        Algorithm::Sha512 => Hash::Sha512,
    };
    // Never inlined (authcore-hotp): the padded key stays in a frame below the caller's.
    KeyedMac::new(hash, key)
}

const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

/// Makes codes for one credential. Cheap to keep per account; the keyed HMAC state it holds is
/// derived from the secret, so it is zeroized on drop and never printed.
#[derive(Clone)]
pub struct Generator {
    params: OtpParams,
    mac: KeyedMac,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Generator {
    pub fn new(params: OtpParams, secret: &Secret) -> Result<Self, OtpError> {
        let generator = Self::new_unscrubbed(params, secret);
        // HMAC pads the key into a block on the stack, and that block is not cleared.
        crate::secret::scrub_stack();
        generator
    }

    /// What [`Generator::new`] checks, without keying anything: the parameters are valid and the
    /// secret is not empty (HMAC takes a key of any other length).
    pub fn check(params: &OtpParams, secret: &Secret) -> Result<(), OtpError> {
        params.validate()?;
        if secret.is_empty() {
            return Err(OtpError::EmptySecret);
        }
        Ok(())
    }

    /// [`Generator::new`] without the stack scrub, for a caller that keys many generators in a
    /// loop and scrubs once after it (`State::reload`): each keying leaves its padded key at
    /// the same place below the caller, so each overwrites the last, and one
    /// [`crate::secret::scrub_stack`] from the caller clears what the last one left. 10,000
    /// accounts spent a third of their start-up overwriting 32 KiB twenty thousand times.
    pub(crate) fn new_unscrubbed(params: OtpParams, secret: &Secret) -> Result<Self, OtpError> {
        Self::check(&params, secret)?;
        let mac = keyed_mac(params.algorithm, secret.expose());
        Ok(Generator { params, mac })
    }

    pub fn params(&self) -> &OtpParams {
        &self.params
    }

    /// The 31-bit dynamically truncated value of HMAC(secret, counter) (RFC 4226 §5.3).
    fn truncated(&self, counter: u64) -> u32 {
        self.mac.truncated(counter)
    }

    /// The code for an explicit counter (HOTP, or a TOTP time step).
    pub fn code_for_counter(&self, counter: u64) -> Code {
        let value = self.truncated(counter);
        match self.params.kind {
            OtpKind::Steam { .. } => steam_code(value),
            _ => decimal_code(value, self.params.digits),
        }
    }

    /// The time step that `at` falls in, for TOTP and Steam (before 1970: step 0).
    pub fn time_step(&self, at: UnixTime) -> Result<u64, OtpError> {
        let period = self.params.kind.period().ok_or(OtpError::NotTimeBased)?;
        Ok(time_step(at.otp_secs(), period).0)
    }

    /// Only the current code at `at`: half the work of [`Generator::totp`], for lists that
    /// do not show the next code.
    pub fn code_at(&self, at: UnixTime) -> Result<Code, OtpError> {
        Ok(self.code_for_counter(self.time_step(at)?))
    }

    /// The current and next code at `at` (already corrected for clock offset), and how long the
    /// current one stays valid.
    pub fn totp(&self, at: UnixTime) -> Result<TotpCode, OtpError> {
        let period = self.params.kind.period().ok_or(OtpError::NotTimeBased)?;
        let (step, valid_for) = time_step(at.otp_secs(), period);
        Ok(TotpCode {
            code: self.code_for_counter(step),
            valid_for,
            next_code: self.code_for_counter(step.wrapping_add(1)),
            time_step: step,
        })
    }
}

/// The time step that `secs` falls in for a period of `period` seconds (validated: at least
/// 1), and the whole seconds its code stays valid (1..=period). Nearly every account counts in
/// 30 s steps: a division by that constant compiles to a multiplication, where one by a period
/// read at run time is the slowest instruction on a code's path.
#[inline(always)]
pub(crate) fn time_step(secs: u64, period: u32) -> (u64, u32) {
    let step = match period {
        30 => secs / 30,
        other => secs / u64::from(other),
    };
    // `secs - step * period` is below `period`, a u32.
    (step, period - (secs - step * u64::from(period)) as u32)
}

fn decimal_code(value: u32, digits: u8) -> Code {
    // One function per length, so each divides by constants (multiplications): one division
    // by `10^len` chosen at run time (which a `match` of constants is compiled into) was a
    // tenth of a code's time.
    match digits {
        ..=6 => decimal::<6>(value, digits),
        7 => decimal::<7>(value, digits),
        8 => decimal::<8>(value, digits),
        9 => decimal::<9>(value, digits),
        10.. => decimal::<10>(value, digits),
    }
}

/// "00" to "99": the two characters of each number below 100.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// The last `LEN` decimal digits of `value`, or of its last `digits` when fewer (never made:
/// parameters below 6 digits are refused, but a code must not panic on them). Written two
/// characters at a time, each pair divided out of `value` directly rather than out of what the
/// last pair left, so the pairs do not wait on each other: one digit at a time was a chain of
/// six dependent divisions at the end of every code.
#[inline(always)]
fn decimal<const LEN: usize>(value: u32, digits: u8) -> Code {
    let mut chars = [b'0'; MAX_DIGITS as usize];
    let value = u64::from(value);
    let mut scale = 1u64;
    let mut end = LEN;
    while end >= 2 {
        let pair = DIGIT_PAIRS[((value / scale) % 100) as usize];
        chars[end - 2..end].copy_from_slice(&pair);
        scale *= 100;
        end -= 2;
    }
    if end == 1 {
        chars[0] = b'0' + ((value / scale) % 10) as u8;
    }
    let len = digits.min(LEN as u8);
    if usize::from(len) < LEN {
        chars.copy_within(LEN - usize::from(len)..LEN, 0);
    }
    Code { chars, len }
}

fn steam_code(value: u32) -> Code {
    let mut chars = [b'0'; MAX_DIGITS as usize];
    let mut rest = value as usize;
    for slot in chars[..usize::from(STEAM_DIGITS)].iter_mut() {
        *slot = STEAM_ALPHABET[rest % STEAM_ALPHABET.len()];
        rest /= STEAM_ALPHABET.len();
    }
    Code {
        chars,
        len: STEAM_DIGITS,
    }
}

use authcore_hotp::{Hash, KeyedMac};

#[cfg(test)]
#[path = "otp_tests.rs"]
mod tests;
