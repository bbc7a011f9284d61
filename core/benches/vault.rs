//! Opening a 1,000- and a 10,000-account vault (key supplied by the desktop key store) and
//! producing every account's code: what an app does on launch. Also the cost of unlocking with a
//! password at the default Argon2id parameters, which is what those defaults are chosen by.
use std::hint::black_box;
use std::sync::Arc;

use authcore::account::{NewAccount, OtpCredential};
use authcore::authenticator::Authenticator;
use authcore::authenticator::Config;
use authcore::clock::FixedClock;
use authcore::otp::{Algorithm, OtpParams};
use authcore::secret::Secret;
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, KdfParams, Unlock, Vault};
use criterion::{Criterion, criterion_group, criterion_main};

const T: u64 = 1_700_000_000;

/// A vault of `n` random TOTP accounts opened with a key file, as the desktop and the apps do.
fn vault_of(n: usize, dir: &std::path::Path) -> (std::path::PathBuf, FileKeyStore) {
    let path = dir.join("vault.sqlite");
    let store = FileKeyStore::create(&dir.join("key")).expect("key file");
    let mut vault = Vault::create(&path, &store, None, UnixTime::from_secs(0)).expect("create");
    let accounts = (0..n)
        .map(|i| NewAccount {
            issuer: format!("Issuer {i}"),
            label: format!("user{i}@example.com"),
            otp: OtpCredential::new(
                OtpParams::totp(Algorithm::Sha1, 6, 30),
                Secret::random(20).expect("randomness"),
            )
            .expect("valid"),
            group: None,
            note: None,
            extra_params: Vec::new(),
        })
        .collect();
    vault
        .add_many(accounts, UnixTime::from_secs(0))
        .expect("add");
    (path, store)
}

fn open(path: &std::path::Path, store: &FileKeyStore) -> Authenticator {
    Authenticator::open(
        path,
        Unlock::KeyStore(store),
        Config::offline(Arc::new(FixedClock::new(T as i64))),
    )
    .expect("open")
}

/// Launch (open, then every code) and the code list on an open vault, at 1,000 and 10,000
/// accounts: the cost should grow linearly.
fn big_vaults(c: &mut Criterion) {
    for n in [1000usize, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (path, store) = vault_of(n, dir.path());
        let mut group = c.benchmark_group(format!("vault_{n}"));
        if n > 1000 {
            group.sample_size(20);
        }
        group.bench_function("open_and_read", |b| {
            b.iter(|| {
                let v = Vault::open(&path, Unlock::KeyStore(&store)).expect("open");
                black_box(v.accounts().expect("read").len())
            })
        });
        group.bench_function("open_and_code", |b| {
            b.iter(|| black_box(open(&path, &store).codes(None, None).expect("codes").len()))
        });
        let auth = open(&path, &store);
        group.bench_function("facade_codes", |b| {
            b.iter(|| black_box(auth.codes(None, None).expect("codes").len()))
        });
        group.finish();
    }
}

/// The per-second refresh of a 100-account code list: the core's share of what the Kotlin and
/// Swift `CodeList`s call each second (same accounts as their benchmarks), and of `codes()`.
/// The clock moves one second per refresh, as on screen. Each second the layers ask for
/// `list_version()` and count down themselves; when a row's step moved (here one second in 30,
/// every account being 30 s) they fetch `code_ticks_on()`, which then makes every code anew:
/// `core`. `core_rollover` is such a second alone, `core_ticks` the ticks every second (what
/// the FFI's `code_ticks()` wraps), `codes_core` the facade's `codes()`.
fn refresh_100(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileKeyStore::create(&dir.path().join("key")).expect("key file");
    let clock = Arc::new(FixedClock::new(T as i64));
    let auth = Authenticator::open_or_create(
        &dir.path().join("vault.sqlite"),
        &store,
        Config::offline(clock.clone()),
    )
    .expect("open");
    let lines: Vec<String> = (0..100u8)
        .map(|i| {
            let (a, b) = ((b'A' + i % 26) as char, (b'A' + i / 26) as char);
            format!("otpauth://totp/Bench:u{i}?secret=JBSWY3DPEHPK3P{a}{b}&issuer=B{i}")
        })
        .collect();
    auth.add_uri_lines(&lines.join("\n")).expect("add");
    let mut now = T as i64;
    let mut group = c.benchmark_group("refresh_100");
    group.bench_function("core", |b| {
        b.iter(|| {
            now += 1;
            black_box(auth.list_version().expect("version"));
            if now % 30 == 0 {
                let mut ticks = Vec::new();
                black_box(
                    auth.code_ticks_on(UnixTime::from_secs(now), &mut ticks)
                        .expect("ticks"),
                );
                black_box(ticks);
            }
        })
    });
    group.bench_function("core_rollover", |b| {
        b.iter(|| {
            now += 30;
            let mut ticks = Vec::new();
            black_box(
                auth.code_ticks_on(UnixTime::from_secs(now), &mut ticks)
                    .expect("ticks"),
            );
            black_box(ticks)
        })
    });
    group.bench_function("core_ticks", |b| {
        b.iter(|| {
            now += 1;
            clock.set(now);
            let mut ticks = Vec::new();
            black_box(auth.code_ticks(None, &mut ticks).expect("ticks"));
            black_box(ticks)
        })
    });
    group.bench_function("codes_core", |b| {
        b.iter(|| {
            now += 1;
            clock.set(now);
            black_box(auth.codes(None, None).expect("codes"))
        })
    });
    group.finish();
}

fn password_unlock(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vault.sqlite");
    let store = FileKeyStore::create(&dir.path().join("key")).expect("key file");
    drop(
        Vault::create(
            &path,
            &store,
            Some(("correct horse battery staple", KdfParams::default())),
            UnixTime::from_secs(0),
        )
        .expect("create"),
    );
    let mut group = c.benchmark_group("password");
    group.sample_size(10);
    group.bench_function("vault_open_with_default_argon2id", |b| {
        b.iter(|| {
            black_box(
                Vault::open(&path, Unlock::Password("correct horse battery staple")).expect("open"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, big_vaults, refresh_100, password_unlock);
criterion_main!(benches);
