package org.authcore

import android.app.Application
import android.os.Build
import java.io.File
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.shadows.ShadowLog

/** AES-256-GCM with a key held in memory: the vault key store where the Keystore cannot run. */
class MemoryVaultKeyStore : VaultKeyStore {
    private val key: SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    override fun wrap(masterKey: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key)
        return cipher.iv + cipher.doFinal(masterKey)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 0, 12))
        return cipher.doFinal(wrapped, 12, wrapped.size - 12)
    }
}

/**
 * The Android-only Kotlin and the Android flavour of the bindings, run under Robolectric on the
 * Android 15 framework: the entry point's wiring, the generated code's Android paths (its
 * `SystemCleaner` from API 34 on), and a push round trip with the real privacyIDEA (the pi peer).
 *
 * What Robolectric cannot show: the Android Keystore (it has no `AndroidKeyStore` provider, so
 * the Keystore classes are checked to fail readably), and Android's own HTTP stack (java.net
 * is the JVM's here, so [HttpUrlConnectionTransport] runs on the JDK's HttpURLConnection).
 * Software device keys are RSA-2048 (`AuthCore.software(2048)`), fast to generate.
 */
@RunWith(RobolectricTestRunner::class)
class AndroidApiTest {
    private val context: Application get() = RuntimeEnvironment.getApplication()

    private fun <T> assertThrowsKind(kind: Class<out Throwable>, block: () -> T): Throwable {
        try {
            block()
        } catch (e: Throwable) {
            if (kind.isInstance(e)) return e
            throw AssertionError("expected ${kind.simpleName}, got $e", e)
        }
        fail("expected ${kind.simpleName}, nothing was thrown")
        error("unreachable")
    }

    @Test
    fun `the framework is Android 15, the library's compileSdk`() {
        assertEquals(35, Build.VERSION.SDK_INT)
        assertEquals("15", Build.VERSION.RELEASE)
    }

    @Test
    fun `AndroidAuthCore opens a vault in the no-backup directory through the Android bindings`(): Unit = runBlocking {
        val file = AndroidAuthCore.vaultFile(context, "codes.sqlite")
        assertEquals(context.noBackupFilesDir, file.parentFile)
        AndroidAuthCore.open(context, "codes.sqlite", keyStore = MemoryVaultKeyStore(), deviceKeys = AuthCore.software(2048)).use { core ->
            core.addUri("otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME")
            val code = core.codes().single()
            assertEquals("ACME", code.issuer)
            assertEquals(6, code.code.length)
            assertEquals(1, core.accounts().size)
        }
        assertTrue("the vault is where vaultFile says", file.isFile)
        // The core's diagnostics went to Logcat through the default LogcatSink.
        val logged = ShadowLog.getLogsForTag("authcore").map { it.msg }
        assertTrue("$logged", "vault: vault opened: 0 account(s)" in logged)
    }

    @Test
    fun `by default the vault key is the Android Keystore's, which fails readably off a device`(): Unit = runBlocking {
        val e = assertThrowsKind(AuthCoreException.KeyStore::class.java) {
            runBlocking { AndroidAuthCore.open(context, "keystore.sqlite") }
        }
        assertTrue(e.message, e.message!!.contains("Android Keystore"))
        assertFalse("nothing is left behind", File(context.noBackupFilesDir, "keystore.sqlite").exists())
    }

    @Test
    fun `push through AndroidAuthCore - Keystore device keys by default, Android's rule, the default transport`(): Unit = runBlocking {
        // The trusted front is accepted only because its CA is in this JVM's trust store.
        PiPeer.requireTrustedCaInTrustStore()
        val enrolled = PiPeer.enroll("trusted", numberMatching = true)
        // The default device keys are the Keystore's: no AndroidKeyStore here, so enrollment
        // stops at the key, before anything is sent, and nothing is stored.
        AndroidAuthCore.open(context, "keystore-keys.sqlite", keyStore = MemoryVaultKeyStore()).use { core ->
            val e = assertThrowsKind(AuthCoreException.KeyStore::class.java) {
                runBlocking { core.enrollPush(core.scanPushEnrollment(enrolled.uri)) }
            }
            assertTrue(e.message, e.message!!.contains("Android Keystore"))
            assertTrue(core.accounts().isEmpty())
        }

        AndroidAuthCore.open(context, "push.sqlite", keyStore = MemoryVaultKeyStore(), deviceKeys = AuthCore.software(2048)).use { core ->
            // Through the default transport, over verified TLS.
            val account = core.enrollPush(core.scanPushEnrollment(enrolled.uri), "fcm-token-1")
            assertEquals(enrolled.serial, account.pushSerial)
            // An issuer's rule: passwordless on Android without the device unlock, the desktop
            // keeps it. Approving without the unlock then works only if the vault was opened
            // as Android.
            core.setPasswordlessRules(
                """{"passwordless":{"android":{"max_accounts":1,"require_device_unlock":false},"desktop":{"max_accounts":1}}}""",
            )
            core.enablePasswordless(account.id) // AndroidAuthCore: Platform.ANDROID's rule
            val triggered = PiPeer.trigger(enrolled)
            val request = core.handleNotification(assertNotNullValue(triggered.notification))
            assertTrue(request.passwordless)
            core.approve(request.nonce, triggered.correctAnswer, deviceUnlocked = false)
            assertEquals("accept", PiPeer.settledStatus(triggered.transactionId).getString("status"))
        }
    }

    private fun <T : Any> assertNotNullValue(value: T?): T {
        assertNotNull(value)
        return value!!
    }
}
