//! A process killed with SIGKILL at random points of a write loop leaves a vault that opens with
//! every committed account (and HOTP counter) and no half-written one; killed while creating a
//! vault, it leaves no vault or a whole one.
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authcore::account::AccountId;
use authcore::otp::{Algorithm, OtpKind, OtpParams};
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, Unlock, Vault};
use authcore_tests::{account_for, secret_for};

/// Kills per writer; `AUTHCORE_CRASH_KILLS` raises it (`scripts/crash-soak.sh KILLS`).
fn runs() -> u64 {
    std::env::var("AUTHCORE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(30)
}

/// A small xorshift generator: the kill points only need to vary, not to be unpredictable.
struct Rng(u64);
impl Rng {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64);
        eprintln!("kill-point seed {seed}");
        Rng(seed | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Runs the writer, kills it after `delay`, and returns what it printed as committed.
fn run_and_kill(args: &[&str], delay: Duration) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vault_writer"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start vault_writer");
    std::thread::sleep(delay);
    child.kill().expect("SIGKILL the writer");
    let mut text = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut text)
        .expect("read stdout");
    let status = child.wait().expect("reap");
    assert!(
        !status.success(),
        "the writer must have been killed, not have exited"
    );
    // The last line may be cut mid-write by the kill; only whole lines were acknowledged.
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole.lines().map(str::to_owned).collect()
}

#[test]
fn killed_writer_never_loses_or_half_writes_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, key) = (dir.path().join("v.sqlite"), dir.path().join("k"));
    let store = FileKeyStore::create(&key).unwrap();
    drop(Vault::create(&vault, &store, None, UnixTime::from_secs(0)).unwrap());
    let (vault_s, key_s) = (vault.to_str().unwrap(), key.to_str().unwrap());
    let mut rng = Rng::new();
    let mut committed: Vec<(String, String)> = Vec::new();
    let mut reported_per_run = Vec::new();
    let started = Instant::now();
    for run in 0..runs() {
        let delay = Duration::from_millis(5 + rng.below(120));
        let run_name = format!("r{run}");
        let lines = run_and_kill(&["add", vault_s, key_s, &run_name], delay);
        reported_per_run.push(lines.len());
        for line in lines {
            let (id, label) = line.split_once(' ').expect("id label");
            committed.push((id.to_owned(), label.to_owned()));
        }
        check_vault(&vault, &store, &committed, &reported_per_run);
        assert!(
            started.elapsed() < Duration::from_secs(240 * runs().div_ceil(30)),
            "bounded in time"
        );
    }
    assert!(
        committed.len() > runs() as usize,
        "the writer made progress: {}",
        committed.len()
    );
    eprintln!(
        "{} kills of the add writer: {} acknowledged accounts, none lost or half-written",
        runs(),
        committed.len()
    );
}

fn check_vault(
    vault: &Path,
    store: &FileKeyStore,
    committed: &[(String, String)],
    reported_per_run: &[usize],
) {
    let v = Vault::open(vault, Unlock::KeyStore(store)).expect("the vault opens after a kill");
    let all = v.accounts().expect("every stored row decrypts");
    for a in &all {
        let otp = a.otp.as_ref().expect("every account here has a code");
        assert_eq!(
            otp.secret.expose(),
            secret_for(&a.label).as_slice(),
            "{}",
            a.label
        );
        assert_eq!(otp.params, account_for(&a.label).otp.params);
    }
    for (id, label) in committed {
        let a = v
            .get(&AccountId::parse(id).unwrap())
            .unwrap_or_else(|e| panic!("committed account {label} lost: {e}"));
        assert_eq!(&a.label, label);
    }
    // A run adds `rN-0`, `rN-1`, ... one at a time, so what it stored is what it reported plus at
    // most the one add that committed just before the kill, before its line was printed.
    let mut stored_per_run = vec![Vec::new(); reported_per_run.len()];
    for a in &all {
        let (run, index) = a
            .label
            .strip_prefix('r')
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(run, index)| {
                Some((run.parse::<usize>().ok()?, index.parse::<usize>().ok()?))
            })
            .unwrap_or_else(|| panic!("an account no run wrote: {}", a.label));
        stored_per_run[run].push(index);
    }
    for (run, (stored, &reported)) in stored_per_run.iter_mut().zip(reported_per_run).enumerate() {
        stored.sort_unstable();
        assert!(
            *stored == (0..reported).collect::<Vec<_>>()
                || *stored == (0..=reported).collect::<Vec<_>>(),
            "run {run} reported {reported} adds but stored {stored:?}"
        );
    }
}

#[test]
fn killed_hotp_writer_never_reuses_a_counter() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, key) = (dir.path().join("v.sqlite"), dir.path().join("k"));
    let store = FileKeyStore::create(&key).unwrap();
    let mut v = Vault::create(&vault, &store, None, UnixTime::from_secs(0)).unwrap();
    let mut account = account_for("hotp");
    account.otp = authcore::account::OtpCredential::new(
        OtpParams::hotp(Algorithm::Sha1, 6, 0),
        authcore::secret::Secret::new(secret_for("hotp")),
    )
    .unwrap();
    let id = v.add(account, UnixTime::from_secs(0)).unwrap().id;
    drop(v);
    let mut rng = Rng::new();
    let mut highest_used: Option<u64> = None;
    for _ in 0..runs() / 2 {
        let delay = Duration::from_millis(5 + rng.below(100));
        let used: Vec<u64> = run_and_kill(
            &[
                "hotp",
                vault.to_str().unwrap(),
                key.to_str().unwrap(),
                id.as_str(),
            ],
            delay,
        )
        .iter()
        .map(|l| l.parse().expect("counter"))
        .collect();
        for pair in used.windows(2) {
            assert_eq!(pair[1], pair[0] + 1, "each run uses consecutive counters");
        }
        if let (Some(first), Some(prev)) = (used.first(), highest_used) {
            assert!(
                *first > prev,
                "counter {first} reused after a kill (had used {prev})"
            );
        }
        if let Some(last) = used.last() {
            highest_used = Some(*last);
        }
        let v = Vault::open(&vault, Unlock::KeyStore(&store)).unwrap();
        let OtpKind::Hotp { counter } = v.get(&id).unwrap().otp.unwrap().params.kind else {
            panic!("still HOTP")
        };
        if let Some(h) = highest_used {
            assert!(
                counter > h,
                "stored counter {counter} must be past every used one ({h})"
            );
        }
    }
    assert!(
        highest_used.is_some_and(|h| h > 10),
        "the writer made progress"
    );
    eprintln!(
        "{} kills of the HOTP writer: counters up to {}, none reused",
        runs() / 2,
        highest_used.unwrap_or(0)
    );
}

#[test]
fn killed_creation_leaves_no_vault_or_a_whole_one() {
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().to_str().unwrap();
    let mut rng = Rng::new();
    let (mut created, mut cut_in_key, mut cut_in_vault) = (0, 0, 0);
    for run in 0..runs() / 2 {
        let delay = Duration::from_millis(5 + rng.below(60));
        let run_name = format!("r{run}");
        let reported = run_and_kill(&["create", dir_s, &run_name], delay).len();
        created += reported;
        for i in 0..=reported {
            let key = dir.path().join(format!("{run_name}-k{i}"));
            let vault = dir.path().join(format!("{run_name}-v{i}"));
            if i < reported {
                assert!(
                    key.exists() && vault.exists(),
                    "{run_name}: creation {i} reported but missing"
                );
            }
            // The key file is made first; whatever exists at a final name is whole.
            let key_was_made = key.exists();
            let store = if key_was_made {
                FileKeyStore::open(&key).unwrap_or_else(|e| panic!("{run_name}-k{i}: {e}"))
            } else {
                assert!(!vault.exists(), "{run_name}-v{i} without its key");
                cut_in_key += 1;
                FileKeyStore::create(&key)
                    .unwrap_or_else(|e| panic!("retrying {run_name}-k{i}: {e}"))
            };
            if vault.exists() {
                let v = Vault::open(&vault, Unlock::KeyStore(&store))
                    .unwrap_or_else(|e| panic!("{run_name}-v{i}: {e}"));
                assert!(v.accounts().unwrap().is_empty());
            } else {
                if key_was_made {
                    cut_in_vault += 1;
                }
                // What the app does on its next launch: create again, and succeed.
                Vault::create(&vault, &store, None, UnixTime::from_secs(0))
                    .unwrap_or_else(|e| panic!("retrying {run_name}-v{i}: {e}"));
            }
        }
        assert!(
            !dir.path()
                .join(format!("{run_name}-k{}", reported + 1))
                .exists()
        );
    }
    eprintln!(
        "{created} creations reported; killed while making the key {cut_in_key} times, \
         the vault {cut_in_vault} times"
    );
    assert!(created > 0, "the writer made progress");
}

/// Automatic backups: the writer adds an account and writes its backup, again and again, and is
/// killed at random points (often mid-backup). After each kill every complete backup file
/// decrypts, the newest restores every account acknowledged so far, the vault opens with them,
/// and only the newest `keep` backups (one more when the kill fell before the pruning, and at
/// most one temporary file per kill) are left.
#[test]
fn killed_backup_writer_always_leaves_a_newest_backup_that_restores() {
    use authcore::authenticator::{Authenticator, Config};
    use authcore::clock::SystemClock;
    use authcore::vault::KdfParams;
    use std::sync::Arc;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    const KEEP: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let (vault, key, backups) = (
        dir.path().join("v.sqlite"),
        dir.path().join("k"),
        dir.path().join("backups"),
    );
    std::fs::create_dir(&backups).unwrap();
    let store = FileKeyStore::create(&key).unwrap();
    let offline = || Config::offline(Arc::new(SystemClock));
    Authenticator::create(&vault, &store, None, offline())
        .unwrap()
        .enable_auto_backup(&backups, KEEP, "crash pw", FAST)
        .unwrap();
    let (vault_s, key_s) = (vault.to_str().unwrap(), key.to_str().unwrap());
    let mut rng = Rng::new();
    let mut acknowledged: Vec<String> = Vec::new();
    let runs = runs() / 2;
    for run in 0..runs {
        let delay = Duration::from_millis(20 + rng.below(150));
        acknowledged.extend(run_and_kill(
            &["backup", vault_s, key_s, &format!("b{run}")],
            delay,
        ));
        let dir_listing = authcore::backup::BackupDir::new(&backups).unwrap();
        let files = dir_listing.backups().unwrap();
        assert!(!files.is_empty(), "run {run}: no backup left");
        // A kill between a new backup's rename and the pruning leaves one more: the next write
        // prunes it.
        assert!(
            files.len() <= KEEP + 1,
            "run {run}: {} backups kept",
            files.len()
        );
        let mut newest_labels = Vec::new();
        for (i, file) in files.iter().enumerate() {
            let bytes = std::fs::read(file).unwrap();
            let json = authcore::backup::decrypt(&bytes, "crash pw")
                .unwrap_or_else(|e| panic!("run {run}: {} is not whole: {e}", file.display()));
            let payload = authcore::backup::Payload::from_json(&json).unwrap();
            if i == files.len() - 1 {
                newest_labels = payload.accounts.iter().map(|a| a.label.clone()).collect();
            }
        }
        for label in &acknowledged {
            assert!(
                newest_labels.contains(label),
                "run {run}: acknowledged {label} missing from the newest backup"
            );
        }
        let others: Vec<_> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with(".backup"))
            .collect();
        assert!(
            others
                .iter()
                .all(|n| n.starts_with(".authcore-") && n.ends_with(".tmp")),
            "run {run}: unexpected files {others:?}"
        );
        // At most one per kill (a later write removes them once they are an hour old).
        assert!(
            others.len() <= run as usize + 1,
            "run {run}: temporary files {others:?}"
        );
        // The vault opens with every acknowledged account.
        let store = FileKeyStore::open(&key).unwrap();
        let reopened = Vault::open(&vault, Unlock::KeyStore(&store)).unwrap();
        let labels: Vec<String> = reopened
            .accounts()
            .unwrap()
            .into_iter()
            .map(|a| a.label)
            .collect();
        for label in &acknowledged {
            assert!(
                labels.contains(label),
                "run {run}: {label} lost from the vault"
            );
        }
    }
    // Restoring the newest backup gives every acknowledged account with its secret.
    let files = authcore::backup::BackupDir::new(&backups)
        .unwrap()
        .backups()
        .unwrap();
    let newest = std::fs::read(files.last().unwrap()).unwrap();
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh_store = FileKeyStore::create(&fresh_dir.path().join("k")).unwrap();
    let fresh =
        Authenticator::create(&fresh_dir.path().join("v"), &fresh_store, None, offline()).unwrap();
    fresh.restore_backup(&newest, "crash pw", false).unwrap();
    let uris = fresh.export_otpauth().unwrap();
    for label in &acknowledged {
        let expected = data_encoding::BASE32_NOPAD.encode(&secret_for(label));
        assert!(
            uris.iter()
                .any(|u| u.contains(&format!("{label}?secret={expected}"))),
            "{label} restored with its secret"
        );
    }
    eprintln!(
        "{runs} kills of the backup writer: {} acknowledged accounts, all in the newest backup",
        acknowledged.len()
    );
}

/// The facade's other write paths, killed at random points: an import of two accounts (all or
/// nothing), a rename, a move, passwordless moved between accounts. After each kill the vault
/// opens, every account decrypts to its own secret, both accounts of every acknowledged import
/// are there and no import is half there, each renamed account has its last acknowledged name
/// (or the one being written when the kill came), the order is a permutation, and at most one
/// account holds passwordless (the desktop rule).
#[test]
fn killed_editor_keeps_every_acknowledged_edit() {
    use authcore::authenticator::{Authenticator, Config};
    use authcore::clock::SystemClock;
    use std::collections::HashMap;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let (vault, key) = (dir.path().join("v.sqlite"), dir.path().join("k"));
    let store = FileKeyStore::create(&key).unwrap();
    let auth = Authenticator::create(&vault, &store, None, Config::offline(Arc::new(SystemClock)))
        .unwrap();
    auth.add_accounts((0..5).map(|k| account_for(&format!("base-{k}"))).collect())
        .unwrap();
    drop(auth);
    let (vault_s, key_s) = (vault.to_str().unwrap(), key.to_str().unwrap());
    let mut rng = Rng::new();
    let mut imports: Vec<String> = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut edits = 0usize;
    let runs = runs() / 2;
    for run in 0..runs {
        let delay = Duration::from_millis(20 + rng.below(200));
        let lines = run_and_kill(&["edits", vault_s, key_s, &format!("e{run}")], delay);
        edits += lines.len();
        for line in &lines {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["import", batch] => imports.push((*batch).to_owned()),
                ["rename", label, issuer] => {
                    names.insert((*label).to_owned(), (*issuer).to_owned());
                }
                ["move", _] | ["passwordless", _] => {}
                other => panic!("unexpected line {other:?}"),
            }
        }
        let v =
            Vault::open(&vault, Unlock::KeyStore(&store)).expect("the vault opens after a kill");
        let all = v.accounts().expect("every stored row decrypts");
        for a in &all {
            let otp = a.otp.as_ref().expect("a code");
            assert_eq!(
                otp.secret.expose(),
                secret_for(&a.label).as_slice(),
                "{}",
                a.label
            );
        }
        let labels: Vec<&str> = all.iter().map(|a| a.label.as_str()).collect();
        for batch in &imports {
            for half in ["a", "b"] {
                assert!(
                    labels.contains(&format!("{batch}-{half}").as_str()),
                    "run {run}: acknowledged import {batch} lost its {half}"
                );
            }
        }
        for label in &labels {
            if let Some(batch) = label.strip_suffix("-a") {
                assert!(
                    labels.contains(&format!("{batch}-b").as_str()),
                    "run {run}: import {batch} is half there"
                );
            }
        }
        let this_run = format!("e{run}-");
        for a in all.iter().filter(|a| a.label.starts_with("base-")) {
            let expected = names.get(&a.label).map_or("CrashTest", String::as_str);
            // The rename in flight at the kill may have committed before its line was printed.
            assert!(
                a.issuer == expected || a.issuer.starts_with(&this_run),
                "run {run}: {} is named {}, acknowledged {expected}",
                a.label,
                a.issuer
            );
            names.insert(a.label.clone(), a.issuer.clone());
        }
        let mut orders: Vec<i64> = all.iter().map(|a| a.sort_order).collect();
        orders.sort_unstable();
        orders.dedup();
        assert_eq!(
            orders.len(),
            all.len(),
            "run {run}: two accounts share a place"
        );
        assert!(
            v.passwordless_ids().unwrap().len() <= 1,
            "run {run}: passwordless twice"
        );
    }
    assert!(edits > runs as usize, "the editor made progress: {edits}");
    eprintln!(
        "{runs} kills of the editor: {edits} acknowledged edits, {} imports",
        imports.len()
    );
}

/// Push requests kept and answered, killed at random points: every acknowledged request is
/// kept, every acknowledged answer is recorded, and an answered request offered again (a
/// replay after the crash) is refused as answered, never offered as new.
#[test]
fn killed_push_writer_keeps_requests_and_answers() {
    use authcore::vault::PushInserted;

    let dir = tempfile::tempdir().unwrap();
    let (vault, key) = (dir.path().join("v.sqlite"), dir.path().join("k"));
    let store = FileKeyStore::create(&key).unwrap();
    drop(Vault::create(&vault, &store, None, UnixTime::from_secs(0)).unwrap());
    let (vault_s, key_s) = (vault.to_str().unwrap(), key.to_str().unwrap());
    let mut rng = Rng::new();
    let (mut kept, mut answered) = (Vec::new(), Vec::new());
    let runs = runs() / 2;
    for run in 0..runs {
        let delay = Duration::from_millis(5 + rng.below(120));
        for line in run_and_kill(&["push", vault_s, key_s, &format!("p{run}")], delay) {
            match line.split_once(' ') {
                Some(("kept", nonce)) => kept.push(nonce.to_owned()),
                Some(("answered", nonce)) => answered.push(nonce.to_owned()),
                _ => panic!("unexpected line {line}"),
            }
        }
        let mut v = Vault::open(&vault, Unlock::KeyStore(&store)).expect("the vault opens");
        for nonce in &kept {
            let (_, was_answered) = v
                .push_request(nonce)
                .unwrap()
                .unwrap_or_else(|| panic!("run {run}: kept request {nonce} lost"));
            if answered.contains(nonce) {
                assert!(was_answered, "run {run}: the answer to {nonce} was lost");
            }
        }
        for nonce in &answered {
            let replay = authcore_tests::push_request_for(nonce);
            assert_eq!(
                v.store_push_request(&replay, replay.received_at).unwrap(),
                PushInserted::Answered,
                "run {run}: answered {nonce} offered again"
            );
        }
    }
    assert!(answered.len() > runs as usize, "the writer made progress");
    eprintln!(
        "{runs} kills of the push writer: {} requests kept, {} answered, none lost or offered again",
        kept.len(),
        answered.len()
    );
}

/// Container syncs (each adding a token and re-keying the one before) killed at random points:
/// the container and its key survive, every acknowledged sync's token is linked to an account,
/// a re-keyed account holds either its old or its new secret whole, and no account of a sync
/// exists without its link (nothing half-applied).
#[test]
fn killed_container_sync_applies_whole_syncs_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, key) = (dir.path().join("v.sqlite"), dir.path().join("k"));
    let store = FileKeyStore::create(&key).unwrap();
    drop(Vault::create(&vault, &store, None, UnixTime::from_secs(0)).unwrap());
    let (vault_s, key_s) = (vault.to_str().unwrap(), key.to_str().unwrap());
    let mut rng = Rng::new();
    let runs = runs() / 2;
    let mut synced_total = 0;
    for run in 0..runs {
        let delay = Duration::from_millis(5 + rng.below(120));
        let (mut registered, mut synced) = (false, Vec::new());
        let run_name = format!("c{run}");
        for line in run_and_kill(&["container", vault_s, key_s, &run_name], delay) {
            match line.split_once(' ') {
                Some(("registered", _)) => registered = true,
                Some(("synced", label)) => synced.push(label.to_owned()),
                _ => panic!("unexpected line {line}"),
            }
        }
        let v = Vault::open(&vault, Unlock::KeyStore(&store)).expect("the vault opens");
        let serial = format!("SMPH-{run_name}");
        let containers = v.containers().unwrap();
        let Some(container) = containers.iter().find(|c| c.serial == serial) else {
            assert!(!registered, "run {run}: registered container {serial} lost");
            continue;
        };
        v.container_keys(&serial).expect("the container key opens");
        if registered {
            assert!(container.registered, "run {run}: the registration was lost");
        }
        let accounts = v.accounts().unwrap();
        for label in &synced {
            assert!(
                container.tokens.iter().any(|t| &t.token_serial == label),
                "run {run}: synced token {label} lost"
            );
        }
        let of_run: Vec<_> = accounts
            .iter()
            .filter(|a| a.label.starts_with(&format!("{run_name}-")))
            .collect();
        assert_eq!(
            of_run.len(),
            container.tokens.len(),
            "run {run}: an account without its container link (half a sync)"
        );
        for a in of_run {
            let otp = a.otp.as_ref().expect("an OTP account");
            let old = authcore_tests::account_for(&a.label).otp;
            let new = authcore_tests::account_for(&format!("{}-rekeyed", a.label)).otp;
            assert!(
                otp.secret.expose() == old.secret.expose()
                    || otp.secret.expose() == new.secret.expose(),
                "run {run}: {} holds neither its old nor its new secret",
                a.label
            );
        }
        synced_total += synced.len();
    }
    assert!(synced_total > runs as usize, "the writer made progress");
    eprintln!(
        "{runs} kills of the container sync writer: {synced_total} acknowledged syncs, none lost or half-applied"
    );
}
