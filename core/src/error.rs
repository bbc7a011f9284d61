//! `ErrorKind`: the one classification of every core error, which the CLI's exit status and
//! the FFI's error cases are both derived from.
//!
//! Each module's error enum says its own kind (`VaultError::kind`, `PushError::kind`,
//! `PolicyError::kind`, `AuthError::kind`) with an exhaustive match, so a new variant cannot
//! compile until someone decides what it is. The surfaces then map kinds, never variants.

/// What kind of failure an error is: what the person or app receiving it can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Something the caller supplied is invalid (a URI, a name, an offset, an argument, a rule
    /// set) or asks for something this account cannot do; nothing changed.
    BadInput,
    /// No account has that id.
    NotFound,
    /// The id prefix matches several accounts.
    Ambiguous,
    /// The password does not open the vault.
    WrongPassword,
    /// The key store (the vault's master key, or a push device key) failed or holds another
    /// key.
    KeyStore,
    /// The vault file is missing, damaged, newer than this library, or the disk failed.
    Vault,
    /// A push enrollment QR code, notification or answer that cannot be used: malformed,
    /// unsupported, an insecure URL, for a token not enrolled here, no such request.
    BadPush,
    /// A push request whose server signature does not verify: not sent by the enrolled
    /// server (a security event).
    Forged,
    /// A push request already answered here, delivered or answered again.
    Replayed,
    /// A push request or an enrollment QR code whose time ran out.
    Expired,
    /// The server refused an answer (a wrong number-matching choice, a request no longer
    /// open); the request stays open for another try.
    AnswerRefused,
    /// The push server refused a request, or answered with an error or with something the
    /// protocol does not allow.
    ServerRefused,
    /// The push server could not be reached (connection, DNS, TLS, time-out).
    Network,
    /// The platform's passwordless limit is reached; the error names the holders.
    PasswordlessLimit,
    /// A passwordless approval needs a number-matching answer.
    NeedsNumberMatching,
    /// The approval needs the platform's confirmation of a device unlock.
    NeedsUnlock,
    /// The device's clock is outside what the push protocol can express.
    Clock,
    /// Something failed inside the library that no input explains: an earlier call failed
    /// mid-way inside the facade (reopen the vault), or an in-memory encoder failed.
    Internal,
    /// The server no longer accepts this phone's key for a container (privacyIDEA's ERR3002):
    /// the container was moved to another phone, so this phone's copies of its tokens are
    /// dead; offer to remove them.
    ContainerMoved,
    /// The server says the container is not registered (ERR3001) or does not exist (ERR601).
    ContainerGone,
}

impl ErrorKind {
    /// Every kind, in declaration order: for tests (and tables) that must cover them all.
    pub const ALL: [ErrorKind; 20] = [
        ErrorKind::BadInput,
        ErrorKind::NotFound,
        ErrorKind::Ambiguous,
        ErrorKind::WrongPassword,
        ErrorKind::KeyStore,
        ErrorKind::Vault,
        ErrorKind::BadPush,
        ErrorKind::Forged,
        ErrorKind::Replayed,
        ErrorKind::Expired,
        ErrorKind::AnswerRefused,
        ErrorKind::ServerRefused,
        ErrorKind::Network,
        ErrorKind::PasswordlessLimit,
        ErrorKind::NeedsNumberMatching,
        ErrorKind::NeedsUnlock,
        ErrorKind::Clock,
        ErrorKind::Internal,
        ErrorKind::ContainerMoved,
        ErrorKind::ContainerGone,
    ];
}

/// What an error tells beyond its kind and its text, for a surface that lets apps act on it
/// (the FFI's error cases carry these as fields). Each is set only where the error knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFacts {
    /// The push token or container (its serial) the error is about.
    pub serial: Option<String>,
    /// The push request (its nonce) the error is about.
    pub nonce: Option<String>,
    /// How many accounts an ambiguous id prefix matches.
    pub matches: Option<usize>,
    /// The passwordless rule that refused one more account.
    pub limit: Option<LimitFacts>,
    /// The HTTP status of a server's error answer.
    pub http_status: Option<u16>,
    /// privacyIDEA's error code (`result.error.code`: 3002, 601, ...) of a container error.
    pub server_code: Option<i64>,
}

/// A platform's passwordless limit, reached: the rule and the accounts already holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitFacts {
    pub platform: crate::policy::Platform,
    /// How many accounts the platform's rule allows.
    pub max: u32,
    /// The accounts holding passwordless, as "issuer (label)".
    pub holders: Vec<String>,
}

/// Text from the caller as an error quotes it: control characters (a newline, a terminal escape)
/// and Unicode line separators are written as escapes (`\n`, `\u{1b}`), so an error stays one
/// line and a terminal shows what was typed instead of obeying it.
pub(crate) struct Echo<'a>(pub &'a str);

impl std::fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars() {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Echo, ErrorKind};

    #[test]
    fn echoed_text_keeps_to_one_line() {
        assert_eq!(
            Echo("otpauth://totp/a\nb\r\t\u{1b}[31m\u{2028}é").to_string(),
            "otpauth://totp/a\\nb\\r\\t\\u{1b}[31m\\u{2028}é"
        );
    }

    #[test]
    fn all_lists_every_kind_once_in_order() {
        for (position, kind) in ErrorKind::ALL.into_iter().enumerate() {
            // Exhaustive: a new kind does not compile until it is given its place here, and
            // then this fails until ALL holds it there.
            let expected = match kind {
                ErrorKind::BadInput => 0,
                ErrorKind::NotFound => 1,
                ErrorKind::Ambiguous => 2,
                ErrorKind::WrongPassword => 3,
                ErrorKind::KeyStore => 4,
                ErrorKind::Vault => 5,
                ErrorKind::BadPush => 6,
                ErrorKind::Forged => 7,
                ErrorKind::Replayed => 8,
                ErrorKind::Expired => 9,
                ErrorKind::AnswerRefused => 10,
                ErrorKind::ServerRefused => 11,
                ErrorKind::Network => 12,
                ErrorKind::PasswordlessLimit => 13,
                ErrorKind::NeedsNumberMatching => 14,
                ErrorKind::NeedsUnlock => 15,
                ErrorKind::Clock => 16,
                ErrorKind::Internal => 17,
                ErrorKind::ContainerMoved => 18,
                ErrorKind::ContainerGone => 19,
            };
            assert_eq!(position, expected, "{kind:?}");
        }
    }
}
