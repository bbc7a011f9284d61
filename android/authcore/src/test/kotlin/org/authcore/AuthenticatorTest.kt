package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicLong
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** A Kotlin key store: AES-256-GCM with a key held in this object, as the Keystore one is. */
class SoftwareKeyStore(private val key: SecretKey = newKey()) : VaultKeyStore {
    companion object {
        fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }

    val wraps = AtomicLong()

    override fun wrap(masterKey: ByteArray): ByteArray {
        wraps.incrementAndGet()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key)
        return cipher.iv + cipher.doFinal(masterKey)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray = try {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 0, 12))
        cipher.doFinal(wrapped, 12, wrapped.size - 12)
    } catch (e: AEADBadTagException) {
        throw AuthCoreKeyStoreException.WrongKey()
    }
}

/** A key store that is locked, as the Keystore is before the user authenticates. */
class LockedKeyStore : VaultKeyStore {
    override fun wrap(masterKey: ByteArray): ByteArray = throw AuthCoreKeyStoreException.Unavailable("device locked")
    override fun unwrap(wrapped: ByteArray): ByteArray = throw AuthCoreKeyStoreException.Unavailable("device locked")
}

/** A time source that moves only when a test sets [now] (read from the flows' threads). */
class FixedTime(@Volatile var now: Long) : TimeSource {
    override fun nowUnixSeconds(): Long = now
}

/**
 * What every non-push test opens with: the desktop rule, software device keys (RSA-2048, fast:
 * these tests enroll nothing), the default transport (never used here) and [time].
 */
fun testOptions(time: TimeSource): OpenOptions =
    OpenOptions(Platform.DESKTOP, AuthCore.software(2048), HttpUrlConnectionTransport(), time)

const val SHA1_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
const val SHA256_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
const val SHA512_SEED =
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"

class AuthenticatorTest {
    private val dir: Path = Files.createTempDirectory("authcore-kotlin")
    private val vault = dir.resolve("vault.sqlite").toString()

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private fun rfcVault(store: VaultKeyStore = SoftwareKeyStore(), time: TimeSource = FixedTime(59)): Authenticator {
        val auth = Authenticator.openOrCreate(vault, store, testOptions(time))
        auth.addUri("otpauth://totp/RFC:sha1?secret=$SHA1_SEED&digits=8&algorithm=SHA1")
        auth.addUri("otpauth://totp/RFC:sha256?secret=$SHA256_SEED&digits=8&algorithm=SHA256")
        auth.addUri("otpauth://totp/RFC:sha512?secret=$SHA512_SEED&digits=8&algorithm=SHA512")
        return auth
    }

    @Test
    fun `codes at fixed times equal the RFC 6238 vectors`() {
        rfcVault().use { auth ->
            val table = mapOf(
                59L to listOf("94287082", "46119246", "90693936"),
                1111111109L to listOf("07081804", "68084774", "25091201"),
                1111111111L to listOf("14050471", "67062674", "99943326"),
                1234567890L to listOf("89005924", "91819424", "93441116"),
                2000000000L to listOf("69279037", "90698825", "38618901"),
                20000000000L to listOf("65353130", "77737706", "47863826"),
            )
            for ((t, want) in table) {
                assertEquals(want, auth.codesAt(t, null).map { it.code }, "at $t")
            }
            // The injected Kotlin time source drives codes() too.
            assertEquals(listOf("94287082", "46119246", "90693936"), auth.codes(null).map { it.code })
            val first = auth.codes("sha1").single()
            assertEquals(1u, first.validFor)
            assertEquals(OtpType.TOTP, first.otpType)
        }
    }

    @Test
    fun `the Kotlin key store wraps the master key and reopens the vault`() {
        val store = SoftwareKeyStore()
        rfcVault(store).close()
        assertEquals(1, store.wraps.get())
        Authenticator.openOrCreate(vault, store, testOptions(FixedTime(59))).use { auth ->
            assertEquals(3, auth.accounts().size)
        }
        val stranger = assertThrows<FfiAuthCoreException.KeyStore> {
            Authenticator.openOrCreate(vault, SoftwareKeyStore(), testOptions(FixedTime(59)))
        }
        assertEquals("the key store's key does not open this vault", stranger.text)
    }

    @Test
    fun `a failing key store surfaces as a clear exception`() {
        val e = assertThrows<FfiAuthCoreException.KeyStore> {
            Authenticator.openOrCreate(vault, LockedKeyStore(), testOptions(FixedTime(0)))
        }
        assertEquals("the key store refused: key store unavailable: device locked", e.text)
        assertFalse(Files.exists(Path.of(vault)), "nothing is left behind")
    }

    @Test
    fun `errors arrive as the right exception types with readable messages`() {
        rfcVault().use { auth ->
            val bad = assertThrows<FfiAuthCoreException.InvalidInput> {
                auth.addUri("otpauth://totp/X?secret=JBSWY3DPEHPK3PXP&digits=11")
            }
            assertEquals("digits=11: must be between 6 and 10", bad.text)
            val secret = assertThrows<FfiAuthCoreException.InvalidInput> { auth.addUri("otpauth://totp/X?secret=Q1") }
            assertEquals("secret: '1' is not base32 (character 2)", secret.text)
            assertThrows<FfiAuthCoreException.NotFound> { auth.nextHotp("nope") }
            assertThrows<FfiAuthCoreException.InvalidInput> { auth.setClockOffset(100_000) }
            assertEquals(3, auth.accounts().size, "failed calls change nothing")
        }
    }

    @Test
    fun `password slot, HOTP, rename, move and delete`() {
        val store = SoftwareKeyStore()
        rfcVault(store).use { auth ->
            auth.setPassword("correct horse")
            val hotp = auth.addUri("otpauth://hotp/Bank:me?secret=$SHA1_SEED&counter=0").single().account
            assertEquals(listOf("755224", "287082"), listOf(auth.nextHotp(hotp.id).code, auth.nextHotp(hotp.id).code))
            assertEquals(2UL, auth.accounts().last().counter)
            val renamed = auth.rename(hotp.id, "Big Bank", null)
            assertEquals("Big Bank", renamed.issuer)
            auth.moveAccount(hotp.id, 0u)
            assertEquals(hotp.id, auth.accounts().first().id)
            assertTrue(auth.addUri("otpauth://totp/RFC:sha1?secret=$SHA1_SEED&digits=8").single().alreadyPresent)
            auth.delete(hotp.id)
            assertEquals(3, auth.accounts().size)
        }
        Authenticator.openWithPassword(vault, "correct horse", testOptions(FixedTime(0))).use { assertEquals(3, it.accounts().size) }
        assertThrows<FfiAuthCoreException.WrongPassword> { Authenticator.openWithPassword(vault, "wrong", testOptions(FixedTime(0))) }
    }

    @Test
    fun `AuthCore opens with its fixed choices, and codes say which clock made them`(): Unit = runBlocking {
        val store = SoftwareKeyStore()
        AuthCore.open(vault, store, Platform.ANDROID, AuthCore.software(2048), timeSource = FixedTime(59)).use { core ->
            core.addUri("otpauth://totp/RFC:sha1?secret=$SHA1_SEED&digits=8&algorithm=SHA1")
            val code = core.codes().single()
            assertEquals("94287082", code.code)
            assertEquals(0L, code.clockOffset)
            assertFalse(code.clockFromServer, "no push server checks this account")
            core.setClockOffset(30)
            assertEquals(30L, core.codes().single().clockOffset)
            core.setPassword("correct horse")
        }
        AuthCore.openWithPassword(vault, "correct horse", Platform.ANDROID, AuthCore.software(2048), timeSource = FixedTime(59))
            .use { core -> assertEquals(1, core.accounts().size) }
        assertThrows<AuthCoreException.WrongPassword> {
            runBlocking { AuthCore.openWithPassword(vault, "wrong", Platform.ANDROID, AuthCore.software(2048)) }
        }
    }

    @Test
    fun `objects close and refuse use afterwards`() {
        val auth = rfcVault()
        auth.close()
        assertThrows<IllegalStateException> { auth.accounts() }
        auth.close() // closing twice is harmless
    }

    @Test
    fun `many coroutines and threads at once neither deadlock nor corrupt the vault`(): Unit = runBlocking {
        rfcVault().use { auth ->
            val core = AuthCore(auth, Platform.DESKTOP, FixedTime(59), Dispatchers.IO)
            val added = (0 until 64).map { i ->
                async(Dispatchers.Default) {
                    core.addUri("otpauth://totp/Load:user$i?secret=JBSWY3DPEHPK3PX${'A' + (i % 26)}&issuer=Load$i")
                    core.codes().size
                }
            }.awaitAll()
            assertTrue(added.all { it >= 3 })
            val threads = (0 until 8).map { t ->
                Thread { repeat(50) { auth.codesAt(59L, null); auth.accounts() } }.also { it.start() }
            }
            threads.forEach { it.join(30_000) }
            assertTrue(threads.none { it.isAlive }, "no thread is stuck")
            assertEquals(67, auth.accounts().size)
            assertEquals(67, auth.accounts().map { it.id }.toSet().size)
        }
    }

    @Test
    fun `codesFlow emits every account's code with its countdown`(): Unit = runBlocking {
        val time = FixedTime(1111111109)
        rfcVault(time = time).use { auth ->
            val first = AuthCore(auth, Platform.DESKTOP, time).codesFlow(pollMillis = 10).first()
            assertEquals(listOf("07081804", "68084774", "25091201"), first.map { it.code })
            assertEquals(1, first[0].validFor)
            assertEquals(30, first[0].period)
            assertEquals("14050471", first[0].nextCode)
        }
    }

    @Test
    fun `passwordless follows the platform rule, which is data`() {
        rfcVault().use { auth ->
            val (a, b, c) = auth.accounts().map { it.id }
            assertEquals(1u, auth.passwordlessRule(Platform.ANDROID).maxAccounts)
            assertEquals(null, auth.passwordlessRule(Platform.IOS).maxAccounts)
            assertTrue(auth.enablePasswordless(a, Platform.ANDROID).passwordless)
            val limit = assertThrows<FfiAuthCoreException.PasswordlessLimit> { auth.enablePasswordless(b, Platform.ANDROID) }
            assertEquals(Platform.ANDROID, limit.platform)
            assertEquals(1u, limit.limit)
            assertEquals(listOf("RFC (sha1)"), limit.holders)
            auth.enablePasswordless(b, Platform.IOS)
            auth.enablePasswordless(c, Platform.IOS)
            assertEquals(3, auth.accounts().count { it.passwordless })
            auth.disablePasswordless(b)
            auth.disablePasswordless(c)
            assertTrue(auth.movePasswordless(a, c, Platform.ANDROID).passwordless)
            assertEquals(listOf(c), auth.accounts().filter { it.passwordless }.map { it.id })
            auth.setPasswordlessRules("""{"passwordless":{"android":{"max_accounts":2}}}""")
            auth.enablePasswordless(a, Platform.ANDROID)
            assertThrows<FfiAuthCoreException.InvalidInput> { auth.setPasswordlessRules("{nope") }
        }
    }

    @Test
    fun `preview shows what a QR code would add without adding it`() {
        val preview = previewUri("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC")
        assertEquals(listOf("Example" to "alice@google.com"), preview.map { it.issuer to it.label })
    }

    @Test
    @Tag("benchmark")
    fun `FFI cost of fetching 100 accounts' codes`() {
        Authenticator.openOrCreate(vault, SoftwareKeyStore(), testOptions(FixedTime(1_700_000_000))).use { auth ->
            auth.addUriLines((0 until 100).joinToString("\n") { "otpauth://totp/Bench:u$it?secret=JBSWY3DPEHPK3P${'A' + it % 26}${'A' + it / 26}&issuer=B$it" })
            repeat(200) { auth.codes(null) } // warm up the JIT
            val rounds = 1000
            val start = System.nanoTime()
            repeat(rounds) { assertEquals(100, auth.codes(null).size) }
            val micros = (System.nanoTime() - start) / 1000.0 / rounds
            println("FFI cost (Kotlin/JVM): codes() for 100 accounts = %.1f µs per call".format(micros))
            // The same calls timed as `CodeListTest`'s per-second refresh is, to compare with it.
            val median = benchMicros({ auth.codes(null) })[0]
            println(String.format(java.util.Locale.ROOT, "bench-row: kotlin_codes_100 %.1f", median))
        }
    }
}
