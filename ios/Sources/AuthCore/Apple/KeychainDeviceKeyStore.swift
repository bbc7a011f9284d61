#if canImport(Security)
import Foundation
import Security

/// Keeps the RSA device keys of push tokens in the Keychain (this device only, available after
/// first unlock, never synced): the private key stays there and authcore only asks it to sign.
/// `AuthCoreClient.open(path:)` uses one; elsewhere pass `.platformStore(store:)` with it in the
/// options the vault is opened with. Apple platforms only.
///
/// The Secure Enclave holds only P-256 keys, and privacyIDEA's PUSH protocol is RSA, so these are
/// Keychain RSA keys (2048 bits by default; privacyIDEA accepts 2048 to 4096). The approval
/// itself is gated by the app's LocalAuthentication prompt (`deviceUnlocked`), not by the key, so
/// background polls can still sign.
public final class KeychainDeviceKeyStore: DeviceKeyStore, @unchecked Sendable {
    private let tagPrefix: String
    private let keySize: Int

    public init(tagPrefix: String = "org.authcore.push.", keySize: Int = 2048) {
        self.tagPrefix = tagPrefix
        self.keySize = keySize
    }

    private func tag(_ alias: String) -> Data { Data((tagPrefix + alias).utf8) }

    private func query(_ alias: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyType as String: kSecAttrKeyTypeRSA,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrApplicationTag as String: tag(alias),
        ]
    }

    public func generate(alias: String) throws -> Data {
        try delete(alias: alias)
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeRSA,
            kSecAttrKeySizeInBits as String: keySize,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag(alias),
                kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            ] as [String: Any],
        ]
        var error: Unmanaged<CFError>?
        guard let privateKey = SecKeyCreateRandomKey(attributes as CFDictionary, &error),
              let publicKey = SecKeyCopyPublicKey(privateKey),
              let pkcs1 = SecKeyCopyExternalRepresentation(publicKey, &error) as Data?
        else {
            throw KeyStoreError.Unavailable(reason: "Keychain: \(Self.describe(error))")
        }
        // The Keychain exports an RSA public key as a bare PKCS#1 `RSAPublicKey`. It goes to the
        // core as it is: the core wraps it into the SubjectPublicKeyInfo the server wants (the
        // `DeviceKeyStore.generate` contract takes either), so no DER is written here. (Apple-only
        // code: not compiled by the Linux tests.)
        return pkcs1
    }

    public func sign(alias: String, message: Data) throws -> Data {
        var q = query(alias)
        q[kSecReturnRef as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        // A missing key: a restored backup or a new phone. The token must be enrolled again.
        if status == errSecItemNotFound { throw KeyStoreError.WrongKey }
        guard status == errSecSuccess, let found = item, CFGetTypeID(found) == SecKeyGetTypeID() else {
            throw KeyStoreError.Unavailable(reason: "Keychain status \(status)")
        }
        let key = found as! SecKey  // the type ID was checked above
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(
            key, .rsaSignatureMessagePKCS1v15SHA256, message as CFData, &error
        ) as Data? else {
            throw KeyStoreError.Unavailable(reason: "Keychain: \(Self.describe(error))")
        }
        return signature
    }

    public func delete(alias: String) throws {
        let status = SecItemDelete(query(alias) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KeyStoreError.Unavailable(reason: "Keychain status \(status)")
        }
    }

    private static func describe(_ error: Unmanaged<CFError>?) -> String {
        guard let error = error?.takeRetainedValue() else { return "unknown error" }
        return CFErrorCopyDescription(error) as String? ?? "error \(CFErrorGetCode(error))"
    }
}
#endif
