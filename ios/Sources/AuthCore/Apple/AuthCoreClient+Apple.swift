#if canImport(Security)
import Foundation

/// The entry points an iPhone app uses: they fill in what the general `open` takes, so an app
/// cannot forget the Keychain, the platform or the transport (a vault opened with software
/// device keys, or the desktop's passwordless rule, would work and be wrong).
extension AuthCoreClient {
    /// This device's platform for the passwordless rule: `.ios` on iPhone and iPad (also when
    /// the app runs on a Mac as an iPad app), `.desktop` for a native macOS app.
    public static var thisPlatform: Platform {
        #if os(macOS)
        return .desktop
        #else
        return .ios
        #endif
    }

    /// Opens the vault at `path`, creating it on first use, with its master key in the Keychain
    /// (`KeychainVaultKeyStore`), push device keys in the Keychain (`KeychainDeviceKeyStore`),
    /// push requests over `URLSessionTransport`, this device's platform rule and the core's
    /// diagnostics in the unified log (`OSLogSink`).
    public static func open(
        path: String,
        vaultKeys: KeychainVaultKeyStore = KeychainVaultKeyStore(),
        deviceKeys: KeychainDeviceKeyStore = KeychainDeviceKeyStore(),
        timeSource: TimeSource = systemTimeSource(),
        logger: LogSink? = OSLogSink()
    ) async throws -> AuthCoreClient {
        try await open(
            path: path, keyStore: vaultKeys, platform: thisPlatform,
            deviceKeys: .platformStore(store: deviceKeys), transport: URLSessionTransport(),
            timeSource: timeSource, logger: logger)
    }

    /// Opens a vault with its password (a restored backup, a new phone) with the same Keychain
    /// device keys, transport and platform as `open(path:)`. Push tokens of the old phone are
    /// bound to its keys and must be enrolled again.
    public static func openWithPassword(
        path: String,
        password: String,
        deviceKeys: KeychainDeviceKeyStore = KeychainDeviceKeyStore(),
        timeSource: TimeSource = systemTimeSource(),
        logger: LogSink? = OSLogSink()
    ) async throws -> AuthCoreClient {
        try await openWithPassword(
            path: path, password: password, platform: thisPlatform,
            deviceKeys: .platformStore(store: deviceKeys), transport: URLSessionTransport(),
            timeSource: timeSource, logger: logger)
    }
}
#endif
