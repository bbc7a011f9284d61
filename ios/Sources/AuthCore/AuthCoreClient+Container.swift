import Foundation

// MARK: privacyIDEA smartphone containers
// A container brings every token of the user to this phone, and moves them to the next one.
// The calls that talk to the server are UniFFI async functions over the transport given at
// opening; the others run on the client's queue like every vault call.
extension AuthCoreClient {
    /// Reads a container QR code (`pia://container/...`) just scanned, for a confirmation
    /// screen (`scan.preview()`: server, whether a passphrase is needed and its prompt, expiry).
    public func scanContainer(uri: String) async throws -> ContainerScan {
        try await run { try $0.scanContainer(uri: uri) }
    }

    /// Registers the scanned container (a new P-384 key, kept in the vault) and syncs it.
    /// `passphrase` when the preview says one is needed; the device's brand and model are shown
    /// to the administrator. A scan registers once.
    public func registerContainer(
        scan: ContainerScan,
        passphrase: String? = nil,
        deviceBrand: String? = "Apple",
        deviceModel: String? = nil,
        pushToken: String? = nil
    ) async throws -> ContainerRegistered {
        defer { changes.bump() }
        return try await authenticator.registerContainer(
            scan: scan, passphrase: passphrase, deviceBrand: deviceBrand, deviceModel: deviceModel,
            pushToken: pushToken)
    }

    /// The containers registered here, with their tokens and the server's policies.
    public func containers() async throws -> [Container] { try await run { try $0.containers() } }

    /// Syncs one container (pull to refresh, the sync button).
    public func syncContainer(serial: String, pushToken: String? = nil) async throws -> ContainerSyncReport {
        defer { changes.bump() }
        return try await authenticator.syncContainer(serial: serial, pushToken: pushToken)
    }

    /// Syncs every container, for the app's launch; one failing does not stop the others.
    public func syncAllContainers(pushToken: String? = nil) async throws -> [ContainerSyncOutcome] {
        defer { changes.bump() }
        return try await authenticator.syncAllContainers(pushToken: pushToken)
    }

    /// The QR code that moves the container to a new phone (draw it, or use `qrCodePng`). Once
    /// the new phone registered, this phone's next sync throws `AuthCoreError.ContainerMoved`:
    /// offer `forgetContainer(serial:deleteAccounts: true)` then.
    public func containerTransferQr(serial: String) async throws -> String {
        try await authenticator.containerTransferQr(serial: serial)
    }

    /// Renews every secret of the container on this phone (the old ones stop working).
    public func renewContainer(serial: String, passphrase: String? = nil, pushToken: String? = nil) async throws
        -> ContainerSyncReport
    {
        defer { changes.bump() }
        return try await authenticator.renewContainer(serial: serial, passphrase: passphrase, pushToken: pushToken)
    }

    /// Ends this phone's registration and forgets the container here; its accounts stay. Tell
    /// the user that their codes still work at the server: only a rollover stops a lost phone's.
    public func unregisterContainer(serial: String) async throws -> ContainerUnregistered {
        defer { changes.bump() }
        return try await authenticator.unregisterContainer(serial: serial)
    }

    /// Forgets the container here without the server; `deleteAccounts` removes its accounts.
    public func forgetContainer(serial: String, deleteAccounts: Bool = false) async throws -> Int32 {
        try await write { try $0.forgetContainer(serial: serial, deleteAccounts: deleteAccounts) }
    }
}
