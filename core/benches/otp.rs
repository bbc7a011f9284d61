//! Code generation speed beside its physical floor, measured in the same run.
//!
//! The floor of one HMAC-SHA1 code, once the key's inner and outer states exist, is two SHA-1
//! compressions: the inner hash of the 8-byte counter and the outer hash of that digest.
use std::hint::black_box;

use authcore::otp::{Algorithm, Generator, OtpParams};
use authcore::secret::Secret;
use authcore::time::UnixTime;
use criterion::{Criterion, criterion_group, criterion_main};

const T: u64 = 1_700_000_000;

fn random_keys(n: usize) -> Vec<Secret> {
    (0..n)
        .map(|_| Secret::random(20).expect("system randomness"))
        .collect()
}

fn two_compressions(state: &mut [u32; 5], counter: u64) -> [u32; 5] {
    // Inner: the 8-byte counter padded to one block (message length 64 + 8 bytes).
    let mut inner = *state;
    let mut block = [0u8; 64];
    block[..8].copy_from_slice(&counter.to_be_bytes());
    block[8] = 0x80;
    block[56..].copy_from_slice(&((64u64 + 8) * 8).to_be_bytes());
    sha1::block_api::compress(&mut inner, &[block]);
    // Outer: the 20-byte inner digest padded to one block.
    let mut outer = *state;
    let mut block = [0u8; 64];
    for (i, word) in inner.iter().enumerate() {
        block[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    block[20] = 0x80;
    block[56..].copy_from_slice(&((64u64 + 20) * 8).to_be_bytes());
    sha1::block_api::compress(&mut outer, &[block]);
    outer
}

/// The 6-digit decimal code of a 31-bit truncated HMAC value, for the peers that only give the MAC.
fn six_digits(digest: &[u8]) -> u32 {
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let mut window = [0u8; 4];
    window.copy_from_slice(&digest[offset..offset + 4]);
    (u32::from_be_bytes(window) & 0x7fff_ffff) % 1_000_000
}

fn one_code(c: &mut Criterion) {
    let key = Secret::random(20).expect("system randomness");
    let generator = Generator::new(OtpParams::totp(Algorithm::Sha1, 6, 30), &key).expect("valid");
    let mut group = c.benchmark_group("one_code");
    group.bench_function("floor_two_sha1_compressions", |b| {
        let mut state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
        b.iter(|| two_compressions(black_box(&mut state), black_box(T / 30)))
    });
    group.bench_function("authcore_totp_sha1", |b| {
        b.iter(|| generator.code_at(black_box(UnixTime::from_secs(T as i64))))
    });
    group.bench_function("authcore_totp_with_next_code", |b| {
        b.iter(|| generator.totp(black_box(UnixTime::from_secs(T as i64))))
    });
    let reference = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(key.expose().to_vec())
        .build_noncompliant();
    group.bench_function("totp_rs_generate", |b| {
        b.iter(|| reference.generate(black_box(T)))
    });
    // ring keys its HMAC once too (`hmac::Key` holds both pad states) and signs per code.
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key.expose());
    group.bench_function("ring_hmac_sha1", |b| {
        b.iter(|| {
            let counter = (black_box(T) / 30).to_be_bytes();
            six_digits(ring::hmac::sign(&ring_key, &counter).as_ref())
        })
    });
    // totp-lite re-keys the HMAC on every call and returns an owned String.
    let lite_key = key.expose().to_vec();
    group.bench_function("totp_lite", |b| {
        b.iter(|| totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &lite_key, black_box(T)))
    });
    group.finish();
}

fn thousand_accounts(c: &mut Criterion) {
    let generators: Vec<Generator> = random_keys(1000)
        .iter()
        .map(|k| Generator::new(OtpParams::totp(Algorithm::Sha1, 6, 30), k).expect("valid"))
        .collect();
    c.bench_function("codes_1000_accounts", |b| {
        b.iter(|| {
            generators
                .iter()
                .map(|g| g.code_at(black_box(UnixTime::from_secs(T as i64))))
                .filter(Result::is_ok)
                .count()
        })
    });
    // What the facade's code list computes per account (current and next code, countdown): the
    // generator's own share of `Authenticator::codes` (benches/vault.rs).
    c.bench_function("codes_with_next_1000_accounts", |b| {
        b.iter(|| {
            generators
                .iter()
                .map(|g| g.totp(black_box(UnixTime::from_secs(T as i64))))
                .filter(Result::is_ok)
                .count()
        })
    });
}

criterion_group!(benches, one_code, thousand_accounts);
criterion_main!(benches);
