//! The backup format: round trip, and every way a file is refused (flipped bit, truncation,
//! hostile key-derivation parameters, a newer format, another file), each with its message.

use super::*;
use crate::time::UnixTime;
use crate::vault::KdfParams;

/// Cheap parameters for tests; the format stores whatever was used.
const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn sealed(payload: &[u8]) -> Vec<u8> {
    let key = BackupKey::derive("correct horse", FAST).unwrap();
    encrypt(&key, payload).unwrap()
}

#[test]
fn round_trips_and_the_header_says_how() {
    let file = sealed(b"{\"hello\":1}");
    assert_eq!(&file[..8], MAGIC);
    assert_eq!(file[8], FORMAT_VERSION);
    assert_eq!(file[9], 1, "Argon2id");
    assert_eq!(&file[10..14], &64u32.to_be_bytes());
    assert_eq!(&file[14..18], &1u32.to_be_bytes());
    assert_eq!(&file[18..22], &1u32.to_be_bytes());
    assert_eq!(file.len(), 50 + 11 + 16);
    assert_eq!(
        &decrypt(&file, "correct horse").unwrap()[..],
        b"{\"hello\":1}"
    );
}

#[test]
fn every_flipped_bit_is_refused() {
    let file = sealed(b"payload");
    for byte in 0..file.len() {
        let mut bad = file.clone();
        bad[byte] ^= 0x01;
        let e = decrypt(&bad, "correct horse").unwrap_err();
        // A flipped bit in the signature or the version is caught before decryption; one in
        // the parameters, salt, nonce, ciphertext or tag fails authentication.
        assert!(
            matches!(
                e,
                BackupError::Damaged { .. }
                    | BackupError::BadKdf { .. }
                    | BackupError::DoesNotDecrypt
            ),
            "byte {byte}: {e:?}"
        );
    }
}

#[test]
fn wrong_password_and_empty_password() {
    let file = sealed(b"payload");
    assert_eq!(
        decrypt(&file, "wrong").unwrap_err().to_string(),
        "the backup does not decrypt: wrong password, or the file was altered"
    );
    assert_eq!(
        decrypt(&file, "").unwrap_err().to_string(),
        "backup password: must not be empty"
    );
    assert_eq!(
        BackupKey::derive("", FAST).unwrap_err().to_string(),
        "backup password: must not be empty"
    );
}

#[test]
fn truncated_and_foreign_files_are_named() {
    let file = sealed(b"payload");
    assert_eq!(
        decrypt(&file[..40], "x").unwrap_err().to_string(),
        "not a usable authcore backup: truncated: 40 bytes, a backup has at least 66"
    );
    assert_eq!(
        decrypt(&file[..file.len() - 1], "correct horse")
            .unwrap_err()
            .to_string(),
        "the backup does not decrypt: wrong password, or the file was altered"
    );
    assert_eq!(
        decrypt(b"{\"version\":1}", "x").unwrap_err().to_string(),
        "not a usable authcore backup: it does not start with the authcore backup signature"
    );
    assert_eq!(
        decrypt(&[], "x").unwrap_err().to_string(),
        "not a usable authcore backup: it does not start with the authcore backup signature"
    );
}

#[test]
fn hostile_and_newer_headers_are_refused_before_any_work() {
    let file = sealed(b"payload");
    let mut newer = file.clone();
    newer[8] = 2;
    assert_eq!(
        decrypt(&newer, "x").unwrap_err().to_string(),
        "the backup was written by a newer authcore (format 2, this one reads up to 1); update the app"
    );
    let mut kdf = file.clone();
    kdf[9] = 7;
    assert_eq!(
        decrypt(&kdf, "x").unwrap_err().to_string(),
        "the backup's key derivation is refused: kdf=7: only 1 (Argon2id) is known"
    );
    let mut memory = file.clone();
    memory[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        decrypt(&memory, "x").unwrap_err().to_string(),
        "the backup's key derivation is refused: memory_kib=4294967295: must be between 8 and 4194304"
    );
    let mut passes = file.clone();
    passes[14..18].copy_from_slice(&1_000_000u32.to_be_bytes());
    assert_eq!(
        decrypt(&passes, "x").unwrap_err().to_string(),
        "the backup's key derivation is refused: iterations=1000000: must be between 1 and 100"
    );
    // Found by the backup_read fuzz target: lanes this large overflowed the memory bound.
    let mut many = file.clone();
    many[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        decrypt(&many, "x").unwrap_err().to_string(),
        "the backup's key derivation is refused: parallelism=4294967295: must be between 1 and 16"
    );
    let mut lanes = file;
    lanes[18..22].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(
        decrypt(&lanes, "x").unwrap_err().to_string(),
        "the backup's key derivation is refused: parallelism=0: must be between 1 and 16"
    );
}

#[test]
fn payload_refuses_other_content_naming_the_entry() {
    assert_eq!(
        Payload::from_json(br#"{"format":"other","version":1,"created_at":0,"accounts":[]}"#)
            .unwrap_err()
            .to_string(),
        "the backup's content is invalid: format is 'other', not 'authcore-backup'"
    );
    let bad = br#"{"format":"authcore-backup","version":1,"created_at":0,"accounts":[
        {"issuer":"A","label":"a","type":"totp","algorithm":"SHA1","digits":6,"period":30,"secret":"JBSWY3DPEHPK3PXP"},
        {"issuer":"B","label":"b","type":"totp","algorithm":"MD5","digits":6,"period":30,"secret":"JBSWY3DPEHPK3PXP"}]}"#;
    assert_eq!(
        Payload::from_json(bad)
            .unwrap()
            .new_accounts()
            .unwrap_err()
            .to_string(),
        "the backup's content is invalid: account 2 (B (b)): algorithm: 'MD5' is not SHA1, SHA256 or SHA512"
    );
    let no_counter = br#"{"format":"authcore-backup","version":1,"created_at":0,"accounts":[
        {"issuer":"H","label":"","type":"hotp","algorithm":"SHA1","digits":6,"secret":"JBSWY3DPEHPK3PXP"}]}"#;
    assert_eq!(
        Payload::from_json(no_counter)
            .unwrap()
            .new_accounts()
            .unwrap_err()
            .to_string(),
        "the backup's content is invalid: account 1 (H): counter: missing for a hotp account"
    );
}

#[test]
fn automatic_backup_names_sort_by_age_and_the_oldest_go() {
    let dir = tempfile::tempdir().unwrap();
    let backups = BackupDir::new(dir.path()).unwrap();
    let first = backups
        .write(b"1", UnixTime::from_secs(1_764_600_000), 3)
        .unwrap();
    assert_eq!(
        first.path.file_name().unwrap().to_str().unwrap(),
        "authcore-20251201T144000Z.backup"
    );
    // The same second again gets a number, and sorts after (as text too).
    let second = backups
        .write(b"2", UnixTime::from_secs(1_764_600_000), 3)
        .unwrap();
    assert_eq!(
        second.path.file_name().unwrap().to_str().unwrap(),
        "authcore-20251201T144000Z_002.backup"
    );
    assert!(second.path > first.path);
    backups
        .write(b"3", UnixTime::from_secs(1_764_600_001), 3)
        .unwrap();
    let fourth = backups
        .write(b"4", UnixTime::from_secs(1_764_600_002), 3)
        .unwrap();
    assert_eq!(fourth.removed, vec![first.path.clone()]);
    let left: Vec<_> = backups.backups().unwrap();
    assert_eq!(left.len(), 3);
    assert_eq!(left[0], second.path);
    assert_eq!(left[2], fourth.path);
    // Within one second, a new backup sorts after the others even once the first of that
    // second was removed.
    let dir2 = tempfile::tempdir().unwrap();
    let same = BackupDir::new(dir2.path()).unwrap();
    let mut written = Vec::new();
    for n in 0..6u8 {
        written.push(
            same.write(&[n], UnixTime::from_secs(1_764_600_000), 2)
                .unwrap()
                .path,
        );
    }
    assert_eq!(same.backups().unwrap(), written[4..].to_vec());
    assert_eq!(
        written[5].file_name().unwrap().to_str().unwrap(),
        "authcore-20251201T144000Z_006.backup"
    );
    // A clock gone back never removes the backup just written.
    let back = backups
        .write(b"5", UnixTime::from_secs(1_000_000_000), 1)
        .unwrap();
    assert_eq!(backups.backups().unwrap(), vec![back.path]);
    // Nothing else is left in the directory: no temporary file survives a write.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_directory_must_exist_and_be_named_in_full() {
    assert_eq!(
        BackupDir::new(std::path::Path::new("relative/dir"))
            .unwrap_err()
            .to_string(),
        "automatic backups: dir relative/dir is not an absolute path"
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    assert_eq!(
        BackupDir::new(file.path()).unwrap_err().to_string(),
        format!(
            "automatic backups: dir {} is not a directory",
            file.path().display()
        )
    );
}
