//! QR codes drawn for people to scan: PNG bytes (for a file or an app's image view) and a
//! terminal string (Unicode half blocks). Pure: text in, pixels or characters out.
//!
//! The `qrcode` crate encodes (error correction M: what phone scanners expect, still room for
//! ten transfer accounts); `image` writes the PNG. Both drawings keep the 4-module quiet zone
//! scanners need. What they carry is usually secret: the results are zeroized on drop (the
//! encoders' own scratch buffers are not reachable from here).

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

/// Modules of light margin on every side (ISO/IEC 18004's quiet zone).
pub const QUIET_ZONE: usize = 4;
/// Pixels per module in a PNG: a 10-account transfer QR is then about 850 px wide, which a
/// phone reads from a screen or a print.
pub const PNG_MODULE_PX: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QrRenderError {
    #[error("{chars} characters are too many for one QR code")]
    TooLong { chars: usize },
    #[error("the QR image could not be written: {reason}")]
    Image { reason: String },
}

impl QrRenderError {
    pub fn kind(&self) -> crate::error::ErrorKind {
        match self {
            QrRenderError::TooLong { .. } => crate::error::ErrorKind::BadInput,
            QrRenderError::Image { .. } => crate::error::ErrorKind::Internal,
        }
    }
}

/// The modules of a QR code, dark or light, row by row, without the quiet zone.
struct Matrix {
    width: usize,
    dark: Zeroizing<Vec<bool>>,
}

impl Matrix {
    fn encode(text: &str) -> Result<Matrix, QrRenderError> {
        let code =
            QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| {
                QrRenderError::TooLong {
                    chars: text.chars().count(),
                }
            })?;
        let dark = Zeroizing::new(
            code.to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        );
        Ok(Matrix {
            width: code.width(),
            dark,
        })
    }

    /// Whether the module at (x, y) of the code with its quiet zone is dark.
    fn at(&self, x: usize, y: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return false;
        };
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    fn side(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }
}

/// A PNG (8-bit grey) of `text`'s QR code: black modules of [`PNG_MODULE_PX`] pixels on white,
/// with the quiet zone.
pub fn png(text: &str) -> Result<Zeroizing<Vec<u8>>, QrRenderError> {
    use image::ImageEncoder;
    let m = Matrix::encode(text)?;
    let px = m.side() * PNG_MODULE_PX;
    let mut pixels = Zeroizing::new(vec![0u8; px * px]);
    for (i, p) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % px / PNG_MODULE_PX, i / px / PNG_MODULE_PX);
        *p = if m.at(x, y) { 0 } else { 255 };
    }
    let side = u32::try_from(px).map_err(|_| QrRenderError::TooLong {
        chars: text.chars().count(),
    })?;
    let mut out = Zeroizing::new(Vec::new());
    image::codecs::png::PngEncoder::new(&mut *out)
        .write_image(&pixels, side, side, image::ExtendedColorType::L8)
        .map_err(|e| QrRenderError::Image {
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// `text`'s QR code for a terminal: two modules per character cell (upper and lower half
/// blocks), drawn black on white with ANSI colours whatever the terminal's theme, quiet zone
/// included; one line per two module rows, each ending in a colour reset and `\n`.
pub fn terminal(text: &str) -> Result<Zeroizing<String>, QrRenderError> {
    const DARK_ON_LIGHT: &str = "\x1b[30;107m";
    const RESET: &str = "\x1b[0m";
    let m = Matrix::encode(text)?;
    let side = m.side();
    let mut out = Zeroizing::new(String::with_capacity((side * 3 + 16) * side.div_ceil(2)));
    for y in (0..side).step_by(2) {
        out.push_str(DARK_ON_LIGHT);
        for x in 0..side {
            out.push(match (m.at(x, y), y + 1 < side && m.at(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str(RESET);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example";

    #[test]
    fn png_is_scannable_by_an_independent_decoder() {
        let bytes = png(URI).unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_luma8();
        let side = img.width() as usize;
        assert_eq!(side % PNG_MODULE_PX, 0);
        // The quiet zone is white all round.
        for i in 0..(QUIET_ZONE * PNG_MODULE_PX) {
            assert_eq!(img.get_pixel(i as u32, (side / 2) as u32).0, [255]);
            assert_eq!(img.get_pixel((side / 2) as u32, i as u32).0, [255]);
        }
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, URI);
    }

    #[test]
    fn terminal_drawing_has_the_quiet_zone_and_half_blocks() {
        let drawn = terminal(URI).unwrap();
        let lines: Vec<&str> = drawn.lines().collect();
        let m = Matrix::encode(URI).unwrap();
        assert_eq!(lines.len(), m.side().div_ceil(2));
        let strip = |l: &str| {
            l.trim_start_matches("\x1b[30;107m")
                .trim_end_matches("\x1b[0m")
                .to_owned()
        };
        assert_eq!(strip(lines[0]).chars().count(), m.side());
        assert!(
            strip(lines[0]).chars().all(|c| c == ' '),
            "quiet zone on top"
        );
        assert!(strip(lines[lines.len() - 1]).chars().all(|c| c == ' '));
        // The finder pattern's top row starts after the 4-module left margin.
        let row = strip(lines[QUIET_ZONE / 2]);
        assert!(row.starts_with("    █"), "{row:?}");
        // Every module is drawn where the matrix says.
        for (i, line) in lines.iter().enumerate() {
            for (x, c) in strip(line).chars().enumerate() {
                let (top, bottom) = (m.at(x, 2 * i), m.at(x, 2 * i + 1));
                let expected = match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                };
                assert_eq!(c, expected);
            }
        }
    }

    #[test]
    fn too_long_is_named() {
        let long = "x".repeat(8000);
        let err = png(&long).unwrap_err();
        assert_eq!(err, QrRenderError::TooLong { chars: 8000 });
        assert_eq!(
            err.to_string(),
            "8000 characters are too many for one QR code"
        );
        assert_eq!(err.kind(), crate::error::ErrorKind::BadInput);
    }
}
