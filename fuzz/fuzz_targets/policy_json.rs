//! `authcore::policy::PolicySet::from_json`: the passwordless rules, data that an issuer or a
//! newer app can set and that the vault keeps in a clear-text setting. Whatever parses is
//! written back and asked every question the facade asks of it.
#![no_main]

use authcore::policy::{Platform, PolicySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = PolicySet::from_json(text) else {
        return;
    };
    let _ = PolicySet::from_json(&rules.to_json());
    let holders = vec!["Fuzz Org (robin)".to_owned(); 3];
    for platform in [Platform::Ios, Platform::Android, Platform::Desktop] {
        let rule = rules.passwordless(platform);
        for n in 0..=holders.len() {
            let _ = rule.check_enable(platform, &holders[..n]);
        }
        for (matched, unlocked) in [(false, false), (true, false), (false, true), (true, true)] {
            let _ = rule.check_approval(matched, unlocked);
        }
    }
});
