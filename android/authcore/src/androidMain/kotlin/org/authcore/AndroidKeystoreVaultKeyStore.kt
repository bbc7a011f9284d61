package org.authcore

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Wraps the vault's master key with an AES-256-GCM key that never leaves the Android Keystore
 * (hardware-backed where the device has it). The wrapped form is `iv (12 bytes) || ciphertext`.
 * [AndroidAuthCore.open] uses it by default. Android only: compiled against the Android
 * framework by android/android-api (the Keystore itself cannot run off a device).
 */
class AndroidKeystoreVaultKeyStore(
    private val alias: String = "authcore-vault-master-key",
) : VaultKeyStore {
    private fun key(): SecretKey {
        val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        generator.init(
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return generator.generateKey()
    }

    override fun wrap(masterKey: ByteArray): ByteArray = try {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key())
        cipher.iv + cipher.doFinal(masterKey)
    } catch (e: java.security.GeneralSecurityException) {
        throw AuthCoreKeyStoreException.Unavailable("Android Keystore: ${e.javaClass.simpleName}")
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        if (wrapped.size < 12 + 16) throw AuthCoreKeyStoreException.WrongKey()
        return try {
            val cipher = Cipher.getInstance("AES/GCM/NoPadding")
            cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(128, wrapped, 0, 12))
            cipher.doFinal(wrapped, 12, wrapped.size - 12)
        } catch (e: AEADBadTagException) {
            throw AuthCoreKeyStoreException.WrongKey()
        } catch (e: java.security.GeneralSecurityException) {
            throw AuthCoreKeyStoreException.Unavailable("Android Keystore: ${e.javaClass.simpleName}")
        }
    }
}
