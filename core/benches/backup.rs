//! Backups of a 1,000-account vault at the default Argon2id cost (64 MiB, 3 passes): creating
//! one, restoring it into a new vault, verifying it, and one automatic backup after a change
//! (the key kept, so no Argon2id: what every change costs once backups are on).
use std::hint::black_box;
use std::sync::Arc;

use authcore::account::{NewAccount, OtpCredential};
use authcore::authenticator::{Authenticator, Config};
use authcore::clock::FixedClock;
use authcore::otp::{Algorithm, OtpParams};
use authcore::secret::Secret;
use authcore::vault::{FileKeyStore, KdfParams};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const PASSWORD: &str = "correct horse battery staple";

fn open(dir: &std::path::Path) -> Authenticator {
    let store = FileKeyStore::open_or_create(&dir.join("key")).expect("key file");
    Authenticator::open_or_create(
        &dir.join("vault.sqlite"),
        &store,
        Config::offline(Arc::new(FixedClock::new(1_764_600_000))),
    )
    .expect("open")
}

fn thousand(auth: &Authenticator) {
    let accounts = (0..1000)
        .map(|i| NewAccount {
            issuer: format!("Issuer {i}"),
            label: format!("user{i}@example.com"),
            otp: OtpCredential::new(
                OtpParams::totp(Algorithm::Sha1, 6, 30),
                Secret::random(20).expect("randomness"),
            )
            .expect("valid"),
            group: (i % 3 == 0).then(|| "Work".to_string()),
            note: None,
            extra_params: Vec::new(),
        })
        .collect();
    auth.add_accounts(accounts).expect("add");
}

fn backups(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let auth = open(dir.path());
    thousand(&auth);
    let file = auth
        .create_backup(PASSWORD, KdfParams::default())
        .expect("backup");
    println!("backup of 1,000 accounts: {} bytes", file.len());
    let mut group = c.benchmark_group("backup_1000");
    group.sample_size(10);
    group.bench_function("create", |b| {
        b.iter(|| {
            black_box(
                auth.create_backup(PASSWORD, KdfParams::default())
                    .expect("backup"),
            )
        })
    });
    group.bench_function("restore_into_new_vault", |b| {
        b.iter_batched(
            || {
                let fresh = tempfile::tempdir().expect("temp dir");
                let target = open(fresh.path());
                (fresh, target)
            },
            |(_fresh, target)| {
                black_box(
                    target
                        .restore_backup(&file, PASSWORD, false)
                        .expect("restore"),
                )
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("verify", |b| {
        b.iter(|| black_box(auth.verify_backup(&file, PASSWORD).expect("verify")))
    });
    let out = tempfile::tempdir().expect("temp dir");
    auth.enable_auto_backup(out.path(), 3, PASSWORD, KdfParams::default())
        .expect("auto");
    let id = auth.accounts().expect("accounts")[0].id.to_string();
    let mut n = 0u64;
    group.bench_function("automatic_after_a_change", |b| {
        b.iter(|| {
            n += 1;
            auth.set_note(&id, Some(format!("note {n}"))).expect("note");
            black_box(auth.flush_backup().expect("flush"))
        })
    });
    group.finish();
}

criterion_group!(benches, backups);
criterion_main!(benches);
