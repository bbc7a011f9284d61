import Foundation

// MARK: Imports: other apps' export files and QR images
// All three are synchronous calls of the core, and slow ones: an encrypted file's key comes
// from Argon2id, scrypt or PBKDF2 at the exporting app's cost (up to seconds), and decoding a
// photo's QR codes takes a while too. Like every vault call they run on the client's serial
// queue, so no thread of the cooperative pool waits for a KDF.
extension AuthCoreClient {
    /// Reads another app's export or backup file (`data`: its bytes, e.g. from a document
    /// picker) and says what importing it would do, changing nothing: for a screen that lists
    /// `preview.entries()` before the user confirms. `password` opens an encrypted file;
    /// `format` (as the CLI's `--format` spells it: `aegis`, `2fas`...) overrides recognition
    /// from the content.
    ///
    /// A wrong password throws `AuthCoreError.WrongPassword`, an unreadable or unknown file
    /// `.InvalidInput`. The parsed secrets stay in the core, inside the preview: pass it to
    /// `commitImport(_:allOrNothing:)` once, or drop it to free them without importing.
    /// Its `format()`, `entries()` and `dropped()` return what was read here and are cheap.
    public func previewImport(data: Data, password: String? = nil, format: String? = nil) async throws -> ImportPreview {
        try await run { try $0.previewImport(data: data, password: password, format: format) }
    }

    /// Adds `preview`'s entries in one transaction: every importable one, or, with
    /// `allOrNothing`, none at all unless every entry can be imported (the error then names the
    /// first that cannot). Entries already present are reported in `duplicates`, not added
    /// twice. A preview commits once (a second commit throws `.InvalidInput`): read the file
    /// again to retry. The secrets leave the preview here.
    public func commitImport(_ preview: ImportPreview, allOrNothing: Bool = false) async throws -> ImportReport {
        try await write { try $0.commitImport(preview: preview, allOrNothing: allOrNothing) }
    }

    /// Adds what the QR codes in a PNG or JPEG image carry (a screenshot of a website's setup
    /// QR, a photo of Google Authenticator's export screen), all or nothing. An image without
    /// an OTP QR code throws `.InvalidInput`. The xcframework of scripts/build-xcframework.sh has
    /// no picture decoder (Vision's `VNDetectBarcodesRequest` reads pictures, AVFoundation the
    /// camera): there this throws `.InvalidInput` saying so, and the app adds the text Vision
    /// read with `add(uri:)` instead.
    public func add(qrImage image: Data) async throws -> [AddedAccount] {
        try await write { try $0.addQrImage(image: image) }
    }
}
