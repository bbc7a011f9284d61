//! QR codes in PNG and JPEG images (a Google Authenticator export screen, a website's setup
//! QR, a photo of either): `image` decodes within size limits, rqrr finds and reads every code.
//! What they carry is then read like lines of text (`uris.rs`), so transfer batches are checked
//! for completeness across the codes of one image.

use zeroize::Zeroizing;

use super::entry::Sink;
use super::{ImportError, MAX_INPUT_BYTES, uris};

/// Widest and tallest image decoded, and the most memory its decoder may take.
const MAX_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

pub(crate) fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// The text of every QR code in the image, top to bottom (left to right within a row).
pub fn decode_qr_image(bytes: &[u8]) -> Result<Vec<Zeroizing<String>>, ImportError> {
    let damaged = |reason: String| ImportError::damaged(super::Format::QrImage, "image", reason);
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let format = if bytes.starts_with(b"\x89PNG") {
        image::ImageFormat::Png
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        image::ImageFormat::Jpeg
    } else {
        return Err(damaged("not a PNG or JPEG image".into()));
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| damaged(e.to_string()))?;
    let grey = picture.to_luma8();
    drop(picture);
    let mut found = scan(&grey);
    if found.is_empty() && grey.width().max(grey.height()) > 1600 {
        // Finder patterns of a large photo can be too big for the detector: try smaller.
        let scale = grey.width().max(grey.height()) / 1200 + 1;
        let small = image::imageops::resize(
            &grey,
            grey.width() / scale,
            grey.height() / scale,
            image::imageops::FilterType::Triangle,
        );
        found = scan(&small);
    }
    if found.is_empty() {
        return Err(ImportError::NoQrCode);
    }
    found.sort_by_key(|(y, x, _)| (*y, *x));
    Ok(found.into_iter().map(|(_, _, text)| text).collect())
}

/// (top, left, text) of each code that decodes.
fn scan(grey: &image::GrayImage) -> Vec<(u32, u32, Zeroizing<String>)> {
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        grey.get_pixel(x as u32, y as u32)[0]
    });
    let mut out = Vec::new();
    for grid in prepared.detect_grids() {
        let top = grid.bounds.iter().map(|p| p.y).min().unwrap_or(0).max(0) as u32;
        let left = grid.bounds.iter().map(|p| p.x).min().unwrap_or(0).max(0) as u32;
        if let Ok((_, text)) = grid.decode() {
            // Rows of codes: tops within a tenth of the image height count as one row.
            let row = top / (grey.height() / 10).max(1);
            out.push((row, left, Zeroizing::new(text)));
        }
    }
    out
}

pub(crate) fn read_image(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let texts = decode_qr_image(bytes)?;
    let lines: Vec<(usize, &str)> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (i + 1, t.as_str()))
        .collect();
    uris::read_lines(&lines, "QR code", sink)
}
