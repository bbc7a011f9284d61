import Foundation

/// The one piece of DER a platform device key store needs, kept platform-neutral so the tests on
/// Linux check it too (the Keychain store that uses it is Apple-only).
enum DER {
    /// The Keychain exports an RSA public key as PKCS#1 `RSAPublicKey`; the server wants it
    /// inside a SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { rsaEncryption OID, NULL },
    /// BIT STRING { 0 unused bits, RSAPublicKey } }.
    static func spki(fromPkcs1 pkcs1: Data) -> Data {
        let algorithm: [UInt8] = [
            0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00,
        ]
        let bitString = [0x03] + derLength(pkcs1.count + 1) + [0x00] + [UInt8](pkcs1)
        let body = algorithm + bitString
        return Data([0x30] + derLength(body.count) + body)
    }

    private static func derLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var rest = n
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }
}
