//! QR codes in PNG and JPEG images (a Google Authenticator export screen, a website's setup
//! QR, a photo of either). What they carry is then read like lines of text (`uris.rs`), so
//! transfer batches are checked for completeness across the codes of one image.
//!
//! The decoder (`qr/decode.rs`) is the feature `qr-image`, on by default: the CLI and the
//! desktop library have it. The phone libraries leave it out (`--no-default-features`, profile
//! `mobile`, docs/benchmarks.md "The library"): a phone app already carries a QR scanner for its
//! camera (ML Kit or ZXing on Android, AVFoundation and Vision on iOS), which reads a picture
//! from the gallery just as well, so the app gives the core the code's text (`add_uri`, or
//! `add_uri_lines` for several codes). A picture given to a library without the decoder is
//! refused with a sentence that says so.

use zeroize::Zeroizing;

use super::entry::Sink;
use super::{ImportError, MAX_INPUT_BYTES, uris};

#[cfg(feature = "qr-image")]
mod decode;

pub(crate) fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// The text of every QR code in the image, top to bottom (left to right within a row).
pub fn decode_qr_image(bytes: &[u8]) -> Result<Vec<Zeroizing<String>>, ImportError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    #[cfg(feature = "qr-image")]
    {
        decode::decode(bytes)
    }
    #[cfg(not(feature = "qr-image"))]
    {
        Err(ImportError::Refused {
            format: super::Format::QrImage,
            reason: NOT_BUILT_IN.into(),
        })
    }
}

/// Whether this thread is inside the decoder's contained calls, whose panics become errors (for
/// [`crate::log::report_panics_to`]).
pub(crate) fn in_contained_decoder() -> bool {
    #[cfg(feature = "qr-image")]
    {
        decode::in_contained()
    }
    #[cfg(not(feature = "qr-image"))]
    {
        false
    }
}

/// Why a library without the decoder refuses a picture, and what the app does instead.
#[cfg(not(feature = "qr-image"))]
const NOT_BUILT_IN: &str = "this build reads QR codes from their text only (the phone libraries \
     leave picture decoding to the app's own scanner): scan the picture with it and add the \
     code's text";

pub(crate) fn read_image(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let texts = decode_qr_image(bytes)?;
    let lines: Vec<(usize, &str)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (i + 1, t.as_str()))
        .collect();
    uris::read_lines(&lines, "QR code", sink)
}

#[cfg(all(test, not(feature = "qr-image")))]
mod tests {
    use super::*;

    #[test]
    fn a_library_without_the_decoder_refuses_a_picture_in_one_sentence() {
        // The fuzz seed: byte 0 is the fuzz target's format selector, the rest a real QR code.
        let png = &include_bytes!("../../../fuzz/seeds/import_read/qr-code.png")[1..];
        let refused = decode_qr_image(png).unwrap_err();
        assert!(matches!(
            refused,
            ImportError::Refused {
                format: super::super::Format::QrImage,
                ..
            }
        ));
        assert_eq!(
            refused.to_string(),
            format!("this QR code image file cannot be imported: {NOT_BUILT_IN}")
        );
        // The import path refuses it the same way, naming the format it recognised.
        let whole = super::super::read_as(png, super::super::Format::QrImage, None).unwrap_err();
        assert_eq!(whole, refused);
        // Through the facade: bad input (InvalidInput over the FFI), and nothing is added.
        let dir = tempfile::tempdir().unwrap();
        let store = crate::vault::FileKeyStore::open_or_create(&dir.path().join("key")).unwrap();
        let clock = std::sync::Arc::new(crate::clock::FixedClock::new(1_764_600_000));
        let auth = crate::authenticator::Authenticator::open_or_create(
            &dir.path().join("vault.db"),
            &store,
            crate::authenticator::Config::offline(clock),
        )
        .unwrap();
        auth.add_uri("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
            .unwrap();
        let failure = auth.add_qr_image(png).unwrap_err();
        assert_eq!(failure.kind(), crate::error::ErrorKind::BadInput);
        assert_eq!(failure.to_string(), refused.to_string());
        assert_eq!(auth.accounts().unwrap().len(), 1);
        // The size limit still comes first.
        let big = vec![0u8; MAX_INPUT_BYTES + 1];
        assert!(matches!(
            decode_qr_image(&big),
            Err(ImportError::TooLarge { .. })
        ));
    }
}
