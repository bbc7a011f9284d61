package org.authcore

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.security.GeneralSecurityException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.RSAKeyGenParameterSpec

/**
 * Keeps the RSA device keys of push tokens in the Android Keystore (hardware-backed where the
 * device has it): the private key never leaves it, and authcore only asks it to sign.
 * [AndroidAuthCore.open] uses it by default (`DeviceKeys.PlatformStore(AndroidKeystoreDeviceKeyStore())`);
 * tokens enrolled with software keys keep them.
 *
 * [keySize] is 2048 by default: every Keystore implementation (StrongBox included) generates it
 * quickly, and privacyIDEA accepts it; privacyIDEA's own app uses 4096, which many TEEs also
 * support but generate slowly. Keys are made without user-authentication binding, because
 * authcore answers polls and signs requests in the background; the approval itself is gated by
 * the app's BiometricPrompt (`deviceUnlocked`). Android only: not part of the JVM test build.
 */
class AndroidKeystoreDeviceKeyStore(
    private val aliasPrefix: String = "authcore-push-",
    private val keySize: Int = 2048,
) : DeviceKeyStore {
    private fun keyStore(): KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    override fun generate(alias: String): ByteArray = try {
        val generator = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_RSA, "AndroidKeyStore")
        generator.initialize(
            KeyGenParameterSpec.Builder(aliasPrefix + alias, KeyProperties.PURPOSE_SIGN)
                .setAlgorithmParameterSpec(RSAKeyGenParameterSpec(keySize, RSAKeyGenParameterSpec.F4))
                .setDigests(KeyProperties.DIGEST_SHA256)
                .setSignaturePaddings(KeyProperties.SIGNATURE_PADDING_RSA_PKCS1)
                .build(),
        )
        // generateKeyPair replaces an existing entry of the same alias.
        generator.generateKeyPair().public.encoded // X.509 SubjectPublicKeyInfo DER
    } catch (e: GeneralSecurityException) {
        throw AuthCoreKeyStoreException.Unavailable("Android Keystore: ${e.javaClass.simpleName}")
    }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        val key = try {
            keyStore().getKey(aliasPrefix + alias, null) as? PrivateKey
        } catch (e: GeneralSecurityException) {
            throw AuthCoreKeyStoreException.Unavailable("Android Keystore: ${e.javaClass.simpleName}")
        } ?: throw AuthCoreKeyStoreException.WrongKey() // reset Keystore, restored backup, new phone
        return try {
            Signature.getInstance("SHA256withRSA").run {
                initSign(key)
                update(message)
                sign()
            }
        } catch (e: GeneralSecurityException) {
            throw AuthCoreKeyStoreException.Unavailable("Android Keystore: ${e.javaClass.simpleName}")
        }
    }

    override fun delete(alias: String) = try {
        keyStore().deleteEntry(aliasPrefix + alias) // no-op when the entry is missing
    } catch (e: GeneralSecurityException) {
        throw AuthCoreKeyStoreException.Unavailable("Android Keystore: ${e.javaClass.simpleName}")
    }
}
