//! The code list split into stable rows and per-second ticks: the ticks are `codes()` without
//! the strings, at every second across rollovers and corrections; every change to what the list
//! shows moves its version, and reading does not.

use super::config_tests::{NOW, Vault, enrollment_uri, registered, run};
use super::{Authenticator, CodeClock, CodeTick, DeviceKeys, ImportMode};
use crate::push::tests::support::{ScriptedTransport, json_response};
use crate::time::UnixTime;
use crate::vault::KdfParams;

const URIS: &[&str] = &[
    "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
    "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41&digits=8",
    "otpauth://totp/Cloud:carol?secret=KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ&issuer=Cloud&algorithm=SHA512&period=60&digits=8",
    "otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam",
    "otpauth://totp/Odd:erin?secret=GEZDGNBVGY3TQOJQ&issuer=Odd&period=7&algorithm=SHA256&digits=7",
];

fn filled(v: &Vault) -> Authenticator {
    let auth = v.open_offline();
    auth.add_uri_lines(&URIS.join("\n")).unwrap();
    auth
}

/// `code_ticks` and `code_list` put together, in the shape `codes()` returns.
fn ticked(auth: &Authenticator, at: Option<u64>) -> Vec<(String, String, String, u32, u32)> {
    let list = auth.code_list().unwrap();
    let mut ticks = Vec::new();
    assert_eq!(
        auth.code_ticks(at.map(|t| UnixTime::from_secs(t as i64)), &mut ticks)
            .unwrap(),
        list.version
    );
    assert_eq!(ticks.len(), list.rows.len());
    list.rows
        .iter()
        .zip(&ticks)
        .map(|(r, t)| {
            (
                r.id.to_string(),
                t.code.to_string(),
                t.next_code.to_string(),
                t.valid_for,
                r.period,
            )
        })
        .collect()
}

fn coded(auth: &Authenticator, at: Option<u64>) -> Vec<(String, String, String, u32, u32)> {
    auth.codes(None, at.map(|t| UnixTime::from_secs(t as i64)))
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.code.to_string(),
                c.next_code.to_string(),
                c.valid_for,
                c.period,
            )
        })
        .collect()
}

#[test]
fn ticks_are_the_codes_at_every_second_across_rollovers_and_offsets() {
    let v = Vault::new();
    let auth = filled(&v);
    // HOTP has no countdown: four time-based rows, in the user's order.
    assert_eq!(auth.code_list().unwrap().rows.len(), 4);
    for offset in [0, 13, -45] {
        auth.set_clock_offset(offset).unwrap();
        for second in 0..130 {
            v.clock.set(NOW + second);
            assert_eq!(
                ticked(&auth, None),
                coded(&auth, None),
                "+{second} s, offset {offset}"
            );
        }
    }
    // Time running backwards (a corrected device clock) must not keep a later step's codes.
    for second in (0..70).rev() {
        v.clock.set(NOW + second);
        assert_eq!(
            ticked(&auth, None),
            coded(&auth, None),
            "back to +{second} s"
        );
    }
    // An explicit time takes no offset, as `codes` does.
    for at in [59, 1_111_111_109, 1_234_567_890, NOW as u64 + 3] {
        assert_eq!(ticked(&auth, Some(at)), coded(&auth, Some(at)), "at {at}");
    }
    // RFC 6238's SHA-1 vector, so the comparison above cannot pass on two equal mistakes.
    let rfc = v.open_offline();
    rfc.add_uri("otpauth://totp/RFC:t?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8")
        .unwrap();
    let list = rfc.code_list().unwrap();
    let mut ticks = vec![];
    rfc.code_ticks(Some(UnixTime::from_secs(59)), &mut ticks)
        .unwrap();
    let at = |t: &[CodeTick], id| {
        let i = list.rows.iter().position(|r| r.issuer == id).unwrap();
        (t[i].code.to_string(), t[i].valid_for)
    };
    assert_eq!(at(&ticks, "RFC"), ("94287082".to_owned(), 1));
}

#[test]
fn rows_hold_what_stays_and_ticks_reuse_the_callers_buffer() {
    let v = Vault::new();
    let auth = filled(&v);
    auth.set_clock_offset(5).unwrap();
    let list = auth.code_list().unwrap();
    let codes = auth.codes(None, None).unwrap();
    assert_eq!(list.rows.len(), codes.len());
    for (row, code) in list.rows.iter().zip(&codes) {
        assert_eq!(
            (
                &row.id,
                &row.issuer,
                &row.label,
                row.kind,
                row.period,
                row.clock_offset
            ),
            (
                &code.id,
                &code.issuer,
                &code.label,
                code.kind,
                code.period,
                code.clock_offset
            )
        );
        assert_eq!(usize::from(row.digits), code.code.as_str().len());
    }
    assert_eq!(list.rows[0].clock_offset, CodeClock::User(5));
    let mut ticks = Vec::with_capacity(16);
    auth.code_ticks(None, &mut ticks).unwrap();
    let buffer = ticks.as_ptr();
    v.clock.set(NOW + 30);
    auth.code_ticks(None, &mut ticks).unwrap();
    assert_eq!(ticks.len(), 4, "cleared, then filled");
    assert_eq!(ticks.as_ptr(), buffer, "no new allocation");
}

/// Runs `change` and says whether the list's version moved.
fn bumps(auth: &Authenticator, change: impl FnOnce(&Authenticator)) -> bool {
    let before = auth.list_version().unwrap();
    change(auth);
    let after = auth.list_version().unwrap();
    // Both ways of reading it agree.
    assert_eq!(auth.code_list().unwrap().version, after);
    assert_eq!(auth.code_ticks(None, &mut Vec::new()).unwrap(), after);
    after != before
}

#[test]
fn every_change_to_the_list_moves_its_version_and_reading_does_not() {
    let v = Vault::new();
    let auth = filled(&v);
    let id = |i: usize| auth.accounts().unwrap()[i].id.to_string();
    let first = id(0);

    assert!(!bumps(&auth, |a| {
        a.codes(None, None).unwrap();
        a.code_list().unwrap();
        a.accounts().unwrap();
        a.code_ticks(None, &mut Vec::new()).unwrap();
        v.clock.set(NOW + 31); // a rollover is a tick, not a list change
        a.code_ticks(None, &mut Vec::new()).unwrap();
    }));
    assert!(bumps(&auth, |a| {
        a.add_uri("otpauth://totp/New:frank?secret=JBSWY3DPEHPK3PXQ&issuer=New")
            .unwrap();
    }));
    assert!(bumps(&auth, |a| {
        a.add_uri_lines("otpauth://totp/New:gina?secret=JBSWY3DPEHPK3PXR&issuer=New")
            .unwrap();
    }));
    assert!(bumps(&auth, |a| {
        a.rename(&first, Some("Renamed".into()), None).unwrap();
    }));
    assert_eq!(auth.code_list().unwrap().rows[0].issuer, "Renamed");
    assert!(bumps(&auth, |a| {
        a.set_group(&first, Some("Work".into())).unwrap();
    }));
    assert!(bumps(&auth, |a| {
        a.set_note(&first, Some("note".into())).unwrap();
    }));
    assert!(bumps(&auth, |a| {
        a.move_to(&first, 3).unwrap();
    }));
    assert_ne!(auth.code_list().unwrap().rows[0].id.as_str(), first);
    assert!(bumps(&auth, |a| {
        a.next_hotp(&id(0)).unwrap();
    }));
    assert!(bumps(&auth, |a| {
        a.delete(&first).unwrap();
    }));
    assert!(bumps(&auth, |a| a.set_clock_offset(30).unwrap()));
    let text = "otpauth://totp/Imported:hana?secret=KRSXG5CTMVRXEZLU&issuer=Imported\n";
    assert!(bumps(&auth, |a| {
        let preview = a.preview_import(text.as_bytes(), None, None).unwrap();
        a.commit_import(&preview, ImportMode::Partial).unwrap();
    }));
    let fast = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let backup = {
        let other = Vault::new();
        let source = filled(&other);
        source
            .delete(&source.accounts().unwrap()[0].id.to_string())
            .unwrap();
        source
            .add_uri("otpauth://totp/Restored:ivan?secret=MFRGGZDFMZTWQ2LL&issuer=Restored")
            .unwrap();
        source.create_backup("pw", fast).unwrap()
    };
    assert!(bumps(&auth, |a| {
        a.restore_backup(&backup, "pw", true).unwrap();
    }));
    assert!(
        auth.code_list()
            .unwrap()
            .rows
            .iter()
            .any(|r| r.issuer == "Restored")
    );
    // Another connection (the CLI, a second process) changes the vault.
    let cli = v.open_offline();
    assert!(bumps(&auth, |_| {
        cli.rename(&id(0), None, Some("from the CLI".into()))
            .unwrap();
    }));
    assert!(bumps(&auth, |_| cli.set_clock_offset(-2).unwrap()));
    // Failed changes may or may not move it; a refused one leaves the list as it was.
    assert!(auth.rename("no-such-id", None, None).is_err());
}

#[test]
fn push_enrollment_and_a_servers_clock_move_the_version() {
    let v = Vault::new();
    let ahead = json_response(
        r#"{"result":{"status":true,"value":[]}}"#,
        &httpdate::fmt_http_date(crate::push::tests::support::t(NOW as u64 + 40).to_system()),
    );
    let transport = ScriptedTransport::new(vec![Ok(registered()), Ok(ahead)]);
    let auth = v.open(DeviceKeys::Software { bits: 2048 }, transport);
    let both = auth
        .add_uri("otpauth://totp/PI:carol?secret=JBSWY3DPEHPK3PXP&issuer=PI")
        .unwrap()[0]
        .info()
        .id
        .to_string();
    assert!(bumps(&auth, |a| {
        let scanned = a.scan_push_enrollment(&enrollment_uri(10)).unwrap();
        run(a.enroll_push(scanned, None, Some(&both))).unwrap();
    }));
    // The poll learns the server's clock, which corrects the code of the account it checks.
    assert!(bumps(&auth, |a| {
        run(a.check_pending()).unwrap();
    }));
    let row = &auth.code_list().unwrap().rows[0];
    // 40 s ahead, measured against the wall clock while the test runs: 40 or 41 once rounded.
    assert!(
        matches!(row.clock_offset, CodeClock::Server(40 | 41)),
        "{row:?}"
    );
    assert_eq!(ticked(&auth, None), coded(&auth, None));
}
