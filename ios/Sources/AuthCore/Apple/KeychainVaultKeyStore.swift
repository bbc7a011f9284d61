#if canImport(Security)
import Foundation
import Security

/// Keeps the vault's master key in the Keychain (this device only, available after first
/// unlock) and hands the vault a random item name as the "wrapped" key. Apple platforms only.
public final class KeychainVaultKeyStore: VaultKeyStore, @unchecked Sendable {
    private let service: String

    public init(service: String = "org.authcore.vault") {
        self.service = service
    }

    public func wrap(masterKey: Data) throws -> Data {
        let account = UUID().uuidString
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: masterKey,
        ]
        let status = SecItemAdd(query as CFDictionary, nil)
        guard status == errSecSuccess else { throw KeyStoreError.Unavailable(reason: "Keychain status \(status)") }
        return Data(account.utf8)
    }

    public func unwrap(wrapped: Data) throws -> Data {
        guard let account = String(data: wrapped, encoding: .utf8) else { throw KeyStoreError.WrongKey }
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound { throw KeyStoreError.WrongKey }
        guard status == errSecSuccess, let data = item as? Data else {
            throw KeyStoreError.Unavailable(reason: "Keychain status \(status)")
        }
        return data
    }
}
#endif
