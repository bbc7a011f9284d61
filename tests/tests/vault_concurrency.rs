//! Two processes and 16 threads changing one vault at once (the CLI beside an app): a writer
//! process adding accounts while 16 threads of this one, each with its own connection (its own
//! `Authenticator`), add and rename accounts. No deadlock (every thread finishes within the
//! bound), no lost write (every acknowledged account of both processes is there), and each
//! connection sees the others' changes on its next call.
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authcore::authenticator::{Authenticator, Config};
use authcore::clock::SystemClock;
use authcore::vault::{FileKeyStore, Unlock, Vault};
use authcore_tests::{account_for, secret_for};

const THREADS: usize = 16;
const PER_THREAD: usize = 12;

#[test]
fn two_processes_and_sixteen_threads_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, key) = (dir.path().join("v.sqlite"), dir.path().join("k"));
    let store = FileKeyStore::create(&key).unwrap();
    let offline = || Config::offline(Arc::new(SystemClock));
    drop(Authenticator::create(&vault, &store, None, offline()).unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_vault_writer"))
        .args([
            "add",
            vault.to_str().unwrap(),
            key.to_str().unwrap(),
            "proc",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the writer process");
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (vault, key) = (vault.clone(), key.clone());
            std::thread::spawn(move || {
                let store = FileKeyStore::open(&key).unwrap();
                let auth = Authenticator::open(
                    &vault,
                    Unlock::KeyStore(&store),
                    Config::offline(Arc::new(SystemClock)),
                )
                .unwrap();
                for i in 0..PER_THREAD {
                    let label = format!("t{t}-{i}");
                    let added = auth.add_accounts(vec![account_for(&label)]).unwrap();
                    let id = added[0].info().id.to_string();
                    auth.rename(&id, Some(format!("Thread {t}")), None).unwrap();
                }
                auth.accounts().unwrap().len()
            })
        })
        .collect();
    let seen: Vec<usize> = threads
        .into_iter()
        .map(|t| t.join().expect("a thread panicked"))
        .collect();
    let took = started.elapsed();
    child.kill().expect("stop the writer process");
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    child.wait().unwrap();
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    let from_process: Vec<&str> = whole.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    assert!(
        took < Duration::from_secs(120),
        "16 threads and a process took {took:?}: a lock is held too long"
    );
    let v = Vault::open(&vault, Unlock::KeyStore(&store)).unwrap();
    let all = v.accounts().unwrap();
    for a in &all {
        let otp = a.otp.as_ref().unwrap();
        assert_eq!(
            otp.secret.expose(),
            secret_for(&a.label).as_slice(),
            "{}",
            a.label
        );
    }
    let labels: Vec<&str> = all.iter().map(|a| a.label.as_str()).collect();
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            let label = format!("t{t}-{i}");
            let a = all.iter().find(|a| a.label == label);
            let a = a.unwrap_or_else(|| panic!("thread {t}'s {label} was lost"));
            assert_eq!(
                a.issuer,
                format!("Thread {t}"),
                "the rename of {label} was lost"
            );
        }
    }
    for label in &from_process {
        assert!(labels.contains(label), "the process's {label} was lost");
    }
    // Each thread's last look saw at least its own accounts; a fresh look sees everything,
    // the other process's included.
    assert!(seen.iter().all(|&n| n >= PER_THREAD), "{seen:?}");
    let auth = Authenticator::open(&vault, Unlock::KeyStore(&store), offline()).unwrap();
    assert_eq!(auth.accounts().unwrap().len(), all.len());
    assert!(
        all.len() >= THREADS * PER_THREAD + from_process.len(),
        "{} accounts",
        all.len()
    );
    eprintln!(
        "{THREADS} threads x {PER_THREAD} adds and renames beside a process that added {}: {} accounts in {took:?}, none lost",
        from_process.len(),
        all.len()
    );
}
