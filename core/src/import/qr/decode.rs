//! The decoder itself (feature `qr-image`): `image` decodes the picture within size limits,
//! rqrr finds and reads every code, both contained (see [`contained`]).

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use zeroize::Zeroizing;

use super::super::ImportError;

// The detector's panics are caught, and its work budget ends a scan by a panic (`Budgeted`): with
// `panic = "abort"` either would end the app instead. The phone libraries are built that way
// (profile `mobile`, Cargo.toml) and leave this decoder out; this keeps the two from meeting.
#[cfg(panic = "abort")]
compile_error!(
    "authcore's `qr-image` feature needs panic = \"unwind\": build with --no-default-features (as the `mobile` profile's libraries are)"
);

/// Widest and tallest image decoded, and the most memory its decoder may take.
const MAX_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// The longest side the detector is given. A QR code keeps enough pixels per module at this
/// size (a phone screenshot is about 1080 x 2400, a setup QR on it several pixels a module),
/// while rqrr's region flood fill on a larger or very long image costs seconds: fuzzing found
/// a 904-byte JPEG of 9264 x 255 pixels that took a second at full size (docs/hardening.md).
const MAX_SCAN_SIDE: u32 = 2000;
/// The longest side of the second try on a large photo, whose finder patterns can be too big
/// for the detector at the first size.
const RETRY_SCAN_SIDE: u32 = 1200;

/// The text of every QR code in the image, top to bottom (left to right within a row); the size
/// limit is checked by the caller.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Zeroizing<String>>, ImportError> {
    let damaged =
        |reason: String| ImportError::damaged(super::super::Format::QrImage, "image", reason);
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
    // Contained like rqrr: zune-jpeg 0.5.15 multiplies a DC coefficient by its quantizer
    // without a check (`decode_mcu_block`), which panics where overflow checks are on (debug
    // builds, tests, the fuzz build; release builds wrap), finding 5 in docs/hardening.md.
    let picture = contained(|| reader.decode())
        .ok_or_else(|| damaged("the image decoder failed on this image".into()))?
        .map_err(|e| damaged(e.to_string()))?;
    let grey = fit(picture.to_luma8(), MAX_SCAN_SIDE);
    drop(picture);
    let mut found = scan(&grey);
    let nothing = |scan: &Scan| !matches!(scan, Scan::Read(codes) if !codes.is_empty());
    if nothing(&found) && grey.width().max(grey.height()) > 1600 {
        found = scan(&fit(grey, RETRY_SCAN_SIDE));
    }
    let mut found = match found {
        Scan::Read(found) => found,
        Scan::Failed => return Err(damaged("the QR code detector failed on this image".into())),
        Scan::GaveUp => {
            return Err(damaged(
                "the QR code detector gave up on this image (too much work for its size)".into(),
            ));
        }
    };
    if found.is_empty() {
        return Err(ImportError::NoQrCode);
    }
    found.sort_by_key(|(y, x, _)| (*y, *x));
    Ok(found.into_iter().map(|(_, _, text)| text).collect())
}

/// The image scaled down (keeping its proportions) so that its longer side is at most `side`.
/// Each pixel becomes the average of the source pixels it covers (`thumbnail`'s integer area
/// averaging): what a QR detector needs, and about 4.5 times faster than a triangle filter
/// (151 against 34 ms for a 12-megapixel photo here), which fuzzing showed to be most of the
/// time spent on large images (docs/hardening.md).
fn fit(grey: image::GrayImage, side: u32) -> image::GrayImage {
    let longer = grey.width().max(grey.height());
    if longer <= side {
        return grey;
    }
    let shrink = |n: u32| ((u64::from(n) * u64::from(side)) / u64::from(longer)).max(1) as u32;
    image::imageops::thumbnail(&grey, shrink(grey.width()), shrink(grey.height()))
}

/// What a scan gave: the codes read, or why the detector stopped.
enum Scan {
    Read(Vec<(u32, u32, Zeroizing<String>)>),
    /// rqrr panicked (see [`contained`]).
    Failed,
    /// rqrr used up [`Budgeted`]'s work budget.
    GaveUp,
}

/// (top, left, text) of each code that decodes.
fn scan(grey: &image::GrayImage) -> Scan {
    let budget = Budgeted::new(grey.clone());
    let left = budget.left.clone();
    let found = contained(|| {
        let mut prepared = rqrr::PreparedImage::prepare(budget);
        let mut out = Vec::new();
        for grid in prepared.detect_grids() {
            let top = grid.bounds.iter().map(|p| p.y).min().unwrap_or(0).max(0) as u32;
            let left = grid.bounds.iter().map(|p| p.x).min().unwrap_or(0).max(0) as u32;
            // A grid the decoder fails on counts as one that does not decode.
            if let Some(Ok((_, text))) = contained(|| grid.decode()) {
                // Rows of codes: tops within a tenth of the image height count as one row.
                let row = top / (grey.height() / 10).max(1);
                out.push((row, left, Zeroizing::new(text)));
            }
        }
        out
    });
    if left.get() == 0 {
        // Also when the budget ran out in a grid's decoding: no partial list of codes.
        return Scan::GaveUp;
    }
    match found {
        Some(out) => Scan::Read(out),
        None => Scan::Failed,
    }
}

/// How many pixel reads, writes and size queries rqrr may make on one picture: 100 per pixel,
/// plus 20 million. Reading a real code takes far fewer (the QR images of the import tests, a
/// Google export screenshot among them, 6 to 22 a pixel, 2 to 15 million in all), while
/// degenerate geometry can make rqrr's search for an alignment pattern spiral for minutes: its
/// number of steps grows with the square of a size estimate that a skewed group of finder
/// patterns inflates without limit (fuzzing found a 677-byte JPEG of 920 x 255 pixels that took
/// 34 s; docs/hardening.md). rqrr has no way to stop it, but it reads the picture through the
/// `image` traits, so the picture counts each access and ends the scan with a panic that
/// [`contained`] catches once the budget is spent.
///
/// Fuzz builds (`cargo fuzz` sets `--cfg fuzzing`) get a tenth of it. Pictures that spend the
/// whole budget are the same few shapes every time (the finding's descendants, a few hundred
/// milliseconds each there), and they took 96 % of `import_read`'s time: at a tenth the fuzzer
/// runs about four times as many inputs, reaching the same code and the same way out. A small
/// real code (a few hundred pixels a side, 22 reads a pixel) still fits.
fn work_budget(grey: &image::GrayImage) -> u64 {
    const PER_PIXEL: u64 = 100;
    const BASE: u64 = 20_000_000;
    let budget = u64::from(grey.width()) * u64::from(grey.height()) * PER_PIXEL + BASE;
    if cfg!(fuzzing) { budget / 10 } else { budget }
}

/// The grey picture handed to rqrr, counting down the accesses it may still make (see
/// [`work_budget`]). rqrr clones it to try each group of finder patterns on a copy; the copies
/// share the count.
#[derive(Clone)]
struct Budgeted {
    image: image::GrayImage,
    left: std::rc::Rc<Cell<u64>>,
}

impl Budgeted {
    fn new(image: image::GrayImage) -> Self {
        let left = std::rc::Rc::new(Cell::new(work_budget(&image)));
        Budgeted { image, left }
    }

    fn spend(&self) {
        let left = self.left.get().saturating_sub(1);
        self.left.set(left);
        if left == 0 {
            // Caught by `contained`; the scan then reports that the detector gave up.
            panic!("the QR code detector's work budget is spent");
        }
    }
}

impl image::GenericImageView for Budgeted {
    type Pixel = image::Luma<u8>;

    fn dimensions(&self) -> (u32, u32) {
        self.spend();
        self.image.dimensions()
    }

    fn get_pixel(&self, x: u32, y: u32) -> Self::Pixel {
        self.spend();
        *self.image.get_pixel(x, y)
    }
}

impl image::GenericImage for Budgeted {
    #[allow(deprecated)]
    fn get_pixel_mut(&mut self, x: u32, y: u32) -> &mut Self::Pixel {
        self.spend();
        self.image.get_pixel_mut(x, y)
    }

    fn put_pixel(&mut self, x: u32, y: u32, pixel: Self::Pixel) {
        self.spend();
        self.image.put_pixel(x, y, pixel);
    }

    #[allow(deprecated)]
    fn blend_pixel(&mut self, x: u32, y: u32, pixel: Self::Pixel) {
        self.put_pixel(x, y, pixel);
    }
}

thread_local! {
    /// Set while this thread runs rqrr or the picture's decoder inside [`contained`].
    static IN_QR_DECODER: Cell<bool> = const { Cell::new(false) };
}

pub(super) fn in_contained() -> bool {
    IN_QR_DECODER.with(Cell::get)
}

/// Runs rqrr or the picture's decoder, giving `None` if it panics. rqrr 0.11 asserts on some
/// degenerate images instead of returning an error (fuzzing found one, a 662-byte JPEG:
/// `Perspective::map`'s "x <= i32::MAX" in `find_alignment_pattern`; upstream rqrr issue 54,
/// open), zune-jpeg overflows on another, and a picture must not bring the app down. Their
/// state is dropped after a panic, so nothing half-updated is used again. The panic hook in
/// place when the first image is read (std's, the app's, or libFuzzer's, which aborts) still
/// sees every other panic: the hook added here only keeps a contained panic from printing or
/// aborting. This needs `panic = "unwind"`: the profile `mobile` aborts, and this module does
/// not compile there (the `compile_error!` above).
fn contained<T>(decode: impl FnOnce() -> T) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_QR_DECODER.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = IN_QR_DECODER.with(|flag| flag.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(decode));
    IN_QR_DECODER.with(|flag| flag.set(was));
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_scanned_at_most_at_the_detectors_size() {
        // The fuzzing finding's shape: 9264 x 255 is scanned as 2000 x 55.
        let strip = fit(image::GrayImage::new(9264, 255), MAX_SCAN_SIDE);
        assert_eq!((strip.width(), strip.height()), (2000, 55));
        let tall = fit(image::GrayImage::new(1080, 2400), MAX_SCAN_SIDE);
        assert_eq!((tall.width(), tall.height()), (900, 2000));
        let thread = fit(image::GrayImage::new(12_000, 1), RETRY_SCAN_SIDE);
        assert_eq!((thread.width(), thread.height()), (1200, 1));
        let small = fit(image::GrayImage::new(640, 480), MAX_SCAN_SIDE);
        assert_eq!((small.width(), small.height()), (640, 480));
    }

    #[test]
    fn a_panic_of_the_qr_detector_is_an_error_naming_the_image() {
        // The fuzzing findings (docs/hardening.md): byte 0 is the fuzz target's format selector,
        // the rest the picture.
        let refused = |input: &[u8]| decode(&input[1..]).unwrap_err().to_string();
        let damaged = "this QR code image file is damaged: image: ";
        // A JPEG on which rqrr's detector asserts.
        let input = include_bytes!(
            "../../../../fuzz/regressions/import_read/crash-jpeg-rqrr-perspective-assert"
        );
        assert_eq!(
            refused(input),
            format!("{damaged}the QR code detector failed on this image")
        );
        // Its sibling made rqrr spiral for half a minute: the work budget stops it.
        let input = include_bytes!(
            "../../../../fuzz/regressions/import_read/timeout-jpeg-rqrr-alignment-spiral"
        );
        assert_eq!(
            refused(input),
            format!(
                "{damaged}the QR code detector gave up on this image (too much work for its size)"
            )
        );
        // A JPEG whose DC coefficient times its quantizer overflows an i32 in zune-jpeg (a
        // panic with overflow checks, as in this test build).
        let input = include_bytes!(
            "../../../../fuzz/regressions/import_read/crash-jpeg-zune-dc-multiply-overflow"
        );
        assert_eq!(
            refused(input),
            format!("{damaged}the image decoder failed on this image")
        );
        // Another panic on this thread after it still reaches the previous hook and unwinds.
        assert!(std::panic::catch_unwind(|| panic!("outside the decoder")).is_err());
        assert!(!IN_QR_DECODER.with(Cell::get));
    }
}
