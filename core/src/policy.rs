//! `policy`: per-platform rules, as data. Today: passwordless (phone sign-in), which platforms
//! limit differently (the source material: iOS allows it for several accounts, Android for one)
//! and issuers change. A rule set is plain JSON an app ships, an issuer pushes or a test writes;
//! the core enforces whatever rule it is given and never hard-codes a platform's limit elsewhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Echo, ErrorFacts, ErrorKind, LimitFacts};

/// The platforms rules are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Ios,
    Android,
    Desktop,
}

impl Platform {
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ios" => Ok(Platform::Ios),
            "android" => Ok(Platform::Android),
            "desktop" => Ok(Platform::Desktop),
            other => Err(PolicyError::UnknownPlatform {
                name: other.chars().take(24).collect(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Desktop => "desktop",
        }
    }
}

/// How passwordless sign-in is allowed on one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordlessRule {
    /// How many accounts may have passwordless on at once; `null` means no limit.
    pub max_accounts: Option<u32>,
    /// A passwordless approval must answer the server's number-matching challenge.
    #[serde(default = "yes")]
    pub require_number_matching: bool,
    /// A passwordless approval needs the platform's word that the user just unlocked the device
    /// (biometric or PIN).
    #[serde(default = "yes")]
    pub require_device_unlock: bool,
}

fn yes() -> bool {
    true
}

/// Rules for every platform. Unknown platforms in the JSON are refused, naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySet {
    pub passwordless: BTreeMap<Platform, PasswordlessRule>,
}

impl Default for PolicySet {
    /// The source material's rule: iOS allows passwordless for any number of accounts, Android
    /// for one. The desktop CLI follows Android's stricter rule unless told otherwise.
    fn default() -> Self {
        let rule = |max_accounts| PasswordlessRule {
            max_accounts,
            require_number_matching: true,
            require_device_unlock: true,
        };
        PolicySet {
            passwordless: BTreeMap::from([
                (Platform::Ios, rule(None)),
                (Platform::Android, rule(Some(1))),
                (Platform::Desktop, rule(Some(1))),
            ]),
        }
    }
}

impl PolicySet {
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError::BadRules {
            reason: e.to_string(),
        })
    }

    pub fn to_json(&self) -> String {
        // A map of plain structs always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The rule for `platform`; a platform the set does not mention allows no passwordless.
    pub fn passwordless(&self, platform: Platform) -> PasswordlessRule {
        self.passwordless
            .get(&platform)
            .copied()
            .unwrap_or(PasswordlessRule {
                max_accounts: Some(0),
                require_number_matching: true,
                require_device_unlock: true,
            })
    }
}

impl PasswordlessRule {
    /// May passwordless be turned on for one more account, given the names of the accounts that
    /// already hold it? The error names them, so the user knows what to move it from.
    pub fn check_enable(&self, platform: Platform, holders: &[String]) -> Result<(), PolicyError> {
        match self.max_accounts {
            Some(max) if holders.len() >= max as usize => Err(PolicyError::LimitReached {
                platform,
                max,
                holders: holders.to_vec(),
            }),
            _ => Ok(()),
        }
    }

    /// May a passwordless sign-in be approved with what the user did? Approvals for accounts
    /// without passwordless are not this rule's concern and are always allowed.
    pub fn check_approval(
        &self,
        number_matched: bool,
        device_unlocked: bool,
    ) -> Result<(), PolicyError> {
        if self.require_number_matching && !number_matched {
            return Err(PolicyError::NeedsNumberMatching);
        }
        if self.require_device_unlock && !device_unlocked {
            return Err(PolicyError::NeedsDeviceUnlock);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("platform '{}': must be ios, android or desktop", Echo(name))]
    UnknownPlatform { name: String },
    #[error("{} allows passwordless for {max} account{}; {} already {} it: turn it off there first, or move it", platform.as_str(), if *max == 1 { "" } else { "s" }, holders.join(", "), if holders.len() == 1 { "has" } else { "have" })]
    LimitReached {
        platform: Platform,
        max: u32,
        holders: Vec<String>,
    },
    #[error("{name} does not have passwordless on")]
    NotHolder { name: String },
    #[error("a passwordless sign-in needs the number shown on the sign-in screen")]
    NeedsNumberMatching,
    #[error("a passwordless sign-in needs the device unlocked (biometric or PIN) first")]
    NeedsDeviceUnlock,
    #[error("passwordless rules: {}", Echo(reason))]
    BadRules { reason: String },
}

impl PolicyError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            PolicyError::UnknownPlatform { .. }
            | PolicyError::NotHolder { .. }
            | PolicyError::BadRules { .. } => ErrorKind::BadInput,
            PolicyError::LimitReached { .. } => ErrorKind::PasswordlessLimit,
            PolicyError::NeedsNumberMatching => ErrorKind::NeedsNumberMatching,
            PolicyError::NeedsDeviceUnlock => ErrorKind::NeedsUnlock,
        }
    }

    /// The rule and the holders of a reached limit (see [`ErrorFacts`]).
    pub fn facts(&self) -> ErrorFacts {
        match self {
            PolicyError::LimitReached {
                platform,
                max,
                holders,
            } => ErrorFacts {
                limit: Some(LimitFacts {
                    platform: *platform,
                    max: *max,
                    holders: holders.clone(),
                }),
                ..ErrorFacts::default()
            },
            _ => ErrorFacts::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_follow_the_source_material() {
        let p = PolicySet::default();
        assert_eq!(p.passwordless(Platform::Ios).max_accounts, None);
        assert_eq!(p.passwordless(Platform::Android).max_accounts, Some(1));
        let android = p.passwordless(Platform::Android);
        android.check_enable(Platform::Android, &[]).unwrap();
        let err = android
            .check_enable(Platform::Android, &["GitHub (alice)".into()])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "android allows passwordless for 1 account; GitHub (alice) already has it: turn it off there first, or move it"
        );
        p.passwordless(Platform::Ios)
            .check_enable(Platform::Ios, &["a".into(), "b".into(), "c".into()])
            .unwrap();
    }

    #[test]
    fn rules_are_data() {
        let p = PolicySet::from_json(
            r#"{"passwordless":{"ios":{"max_accounts":2},"android":{"max_accounts":3,"require_device_unlock":false}}}"#,
        )
        .unwrap();
        assert_eq!(p.passwordless(Platform::Ios).max_accounts, Some(2));
        assert!(
            p.passwordless(Platform::Ios).require_device_unlock,
            "defaults to strict"
        );
        assert!(!p.passwordless(Platform::Android).require_device_unlock);
        assert_eq!(
            p.passwordless(Platform::Desktop).max_accounts,
            Some(0),
            "unmentioned: none"
        );
        assert_eq!(PolicySet::from_json(&p.to_json()).unwrap(), p);
        assert!(
            PolicySet::from_json(r#"{"passwordless":{"windows":{"max_accounts":1}}}"#).is_err()
        );
        assert!(PolicySet::from_json(r#"{"passwordless":{"ios":{"max":1}}}"#).is_err());
    }

    #[test]
    fn approvals_need_number_matching_and_unlock() {
        let rule = PolicySet::default().passwordless(Platform::Ios);
        assert_eq!(
            rule.check_approval(false, true),
            Err(PolicyError::NeedsNumberMatching)
        );
        assert_eq!(
            rule.check_approval(true, false),
            Err(PolicyError::NeedsDeviceUnlock)
        );
        rule.check_approval(true, true).unwrap();
        assert_eq!(Platform::parse("Android").unwrap(), Platform::Android);
        assert_eq!(
            Platform::parse("windows").unwrap_err().to_string(),
            "platform 'windows': must be ios, android or desktop"
        );
    }
}
