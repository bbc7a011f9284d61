package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The push-server stand-in's description (tests/src/bin/push_stand_in.rs): scripts/test-kotlin.sh
 * starts it and names the file in AUTHCORE_PUSH_STAND_IN. Without it these tests fail.
 */
object StandIn {
    private val json: JSONObject by lazy {
        val path = System.getenv("AUTHCORE_PUSH_STAND_IN")
            ?: error("AUTHCORE_PUSH_STAND_IN is not set: run scripts/test-kotlin.sh, which starts the push stand-in")
        JSONObject(Files.readString(Path.of(path)))
    }
    val uri: String get() = json.getString("enrollment_uri")
    val url: String get() = json.getString("url")
    val serial: String get() = json.getString("serial")
    val question: String get() = json.getString("question")
    val title: String get() = json.getString("title")
    val presenceOptions: List<String> get() = json.getJSONArray("presence_options").map { it as String }
    val presenceAnswer: String get() = json.getString("presence_answer")
    fun nonce(name: String): String = json.getJSONObject("nonces").getString(name)
    fun notification(name: String): String = json.getJSONObject("notifications").getString(name)
}

/** A DeviceKeyStore backed by java.security, shaped like the Android Keystore one. */
class JavaDeviceKeyStore : DeviceKeyStore {
    val keys = ConcurrentHashMap<String, KeyPair>()
    val signatures = AtomicInteger()

    override fun generate(alias: String): ByteArray {
        val pair = KeyPairGenerator.getInstance("RSA").apply { initialize(2048) }.generateKeyPair()
        keys[alias] = pair
        return pair.public.encoded // X.509 SubjectPublicKeyInfo DER
    }

    override fun sign(alias: String, message: ByteArray): ByteArray {
        val pair = keys[alias] ?: throw KeyStoreException.WrongKey()
        signatures.incrementAndGet()
        return Signature.getInstance("SHA256withRSA").run {
            initSign(pair.private)
            update(message)
            sign()
        }
    }

    override fun delete(alias: String) {
        keys.remove(alias)
    }
}

class LockedDeviceKeyStore : DeviceKeyStore {
    override fun generate(alias: String): ByteArray = throw KeyStoreException.Unavailable("device locked")
    override fun sign(alias: String, message: ByteArray): ByteArray = throw KeyStoreException.Unavailable("device locked")
    override fun delete(alias: String) {}
}

class PushTest {
    private val dir: Path = Files.createTempDirectory("authcore-kotlin-push")

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private fun open(name: String = "vault.sqlite"): Authenticator =
        Authenticator.openOrCreate(dir.resolve(name).toString(), SoftwareKeyStore(), systemTimeSource())
            .also { it.setSoftwareKeyBits(2048u) }

    /** A vault with the stand-in's push token enrolled (software device key). */
    private fun enrolled(block: suspend (Authenticator, Account) -> Unit) = runBlocking {
        open().use { auth ->
            val account = auth.enrollPush(StandIn.uri, null, null)
            block(auth, account)
        }
    }

    @Test
    fun `the enrollment QR code is previewed without its credential, and a bad one is a Push error`() {
        open().use { auth ->
            val preview = auth.previewPushEnrollment(StandIn.uri)
            assertEquals(StandIn.serial, preview.serial)
            assertEquals("StandIn", preview.issuer)
            assertEquals(StandIn.serial, preview.label)
            assertEquals(StandIn.url, preview.url)
            assertFalse(preview.sslverify)
            assertTrue(preview.pollOnly)
            assertEquals(600UL, preview.ttlSeconds)
            val credential = Regex("enrollment_credential=([0-9a-f]{40})").find(StandIn.uri)!!.groupValues[1]
            assertFalse(preview.toString().contains(credential), "the one-time credential stays inside")

            val bad = assertThrows<AuthCoreException.Push> {
                auth.previewPushEnrollment(StandIn.uri.replace("&v=1&", "&v=2&"))
            }
            assertTrue(bad.message!!.contains("v=2"), bad.message)
            assertThrows<AuthCoreException.Push> { auth.previewPushEnrollment("otpauth://totp/X?secret=JBSWY3DPEHPK3PXP") }
            assertTrue(auth.accounts().isEmpty(), "a preview stores nothing")
        }
    }

    @Test
    fun `enrolls with a software key, approves a signed notification and refuses its replay`() = enrolled { auth, account ->
        assertEquals(OtpType.PUSH, account.otpType)
        assertEquals(StandIn.serial, account.pushSerial)
        assertNull(account.algorithm)
        assertNull(account.digits)
        assertEquals(listOf(account), auth.accounts())

        val request = auth.handleNotification(StandIn.notification("plain"))
        assertEquals(StandIn.nonce("plain"), request.nonce)
        assertEquals(account.id, request.accountId)
        assertEquals(StandIn.serial, request.serial)
        assertEquals(StandIn.question, request.question)
        assertEquals(StandIn.title, request.title)
        assertNull(request.answers)
        assertTrue(request.declineReasons, "the signed capability is honoured")
        assertFalse(request.passwordless)
        assertEquals(120UL, request.expiresAt - request.receivedAt)
        assertEquals(listOf(request), auth.pendingPushRequests())
        // Delivered twice before an answer (push and poll): the same request, kept once.
        assertEquals(request, auth.handleNotification(StandIn.notification("plain")))
        assertEquals(1, auth.pendingPushRequests().size)

        val outcome = auth.approvePush(request.nonce, null, false)
        assertNull(outcome.displayCode)
        assertTrue(auth.pendingPushRequests().isEmpty())

        val replay = assertThrows<AuthCoreException.Push> { auth.handleNotification(StandIn.notification("plain")) }
        assertTrue(replay.message!!.contains("already answered"), replay.message)
        assertThrows<AuthCoreException.Push> { auth.approvePush(request.nonce, null, false) }
    }

    @Test
    fun `a Kotlin DeviceKeyStore holds the device key and signs the answers`() = runBlocking {
        val store = JavaDeviceKeyStore()
        open().use { auth ->
            auth.setDeviceKeyStore(store)
            val account = auth.enrollPush(StandIn.uri, "fcm-token-1", null)
            assertEquals(setOf(account.id), store.keys.keys, "the key is kept under the account id")
            val request = auth.handleNotification(StandIn.notification("number_matching"))
            assertEquals(StandIn.presenceOptions, request.answers)
            auth.approvePush(request.nonce, StandIn.presenceAnswer, false)
            assertEquals(1, store.signatures.get(), "the answer was signed by the Kotlin key")
        }
        // A key store that cannot be used: a readable KeyStore error, and nothing enrolled.
        open("locked.sqlite").use { auth ->
            auth.setDeviceKeyStore(LockedDeviceKeyStore())
            val e = assertThrows<AuthCoreException.KeyStore> { runBlocking { auth.enrollPush(StandIn.uri, null, null) } }
            assertTrue(e.message!!.contains("device locked"), e.message)
            assertTrue(auth.accounts().isEmpty())
        }
    }

    @Test
    fun `a forged notification and one for an unknown token are refused`() {
        open("empty.sqlite").use { auth ->
            val unknown = assertThrows<AuthCoreException.Push> { auth.handleNotification(StandIn.notification("plain")) }
            assertTrue(unknown.message!!.contains("unknown serial"), unknown.message)
        }
        enrolled { auth, _ ->
            val forged = assertThrows<AuthCoreException.Push> { auth.handleNotification(StandIn.notification("forged")) }
            assertTrue(forged.message!!.contains("signature does not verify"), forged.message)
            assertThrows<AuthCoreException.Push> { auth.handleNotification("""{"nonce": 1}""") }
            assertTrue(auth.pendingPushRequests().isEmpty(), "nothing refused is kept")
        }
    }

    @Test
    fun `number matching - the server refuses a wrong choice and accepts the right one`() = enrolled { auth, _ ->
        val request = auth.handleNotification(StandIn.notification("number_matching"))
        assertEquals(listOf("A", "B", "C"), request.answers)
        val wrong = StandIn.presenceOptions.first { it != StandIn.presenceAnswer }
        val refused = assertThrows<AuthCoreException.Server> { auth.approvePush(request.nonce, wrong, false) }
        assertTrue(refused.message!!.contains("refused"), refused.message)
        assertEquals(listOf(request.nonce), auth.pendingPushRequests().map { it.nonce }, "still open")
        auth.approvePush(request.nonce, StandIn.presenceAnswer, false)
        assertTrue(auth.pendingPushRequests().isEmpty())
    }

    @Test
    fun `passwordless on Android needs number matching and the device unlock`() = enrolled { auth, account ->
        assertTrue(auth.enablePasswordless(account.id, Platform.ANDROID).passwordless)
        val plain = auth.handleNotification(StandIn.notification("plain"))
        assertTrue(plain.passwordless)
        val noMatching = assertThrows<AuthCoreException.ApprovalRefused> { auth.approvePush(plain.nonce, null, true) }
        assertTrue(noMatching.message!!.contains("number matching"), noMatching.message)

        val request = auth.handleNotification(StandIn.notification("number_matching"))
        val locked = assertThrows<AuthCoreException.ApprovalRefused> {
            auth.approvePush(request.nonce, StandIn.presenceAnswer, false)
        }
        assertTrue(locked.message!!.contains("device unlock"), locked.message)
        auth.approvePush(request.nonce, StandIn.presenceAnswer, true)
        assertEquals(listOf(plain.nonce), auth.pendingPushRequests().map { it.nonce })
    }

    @Test
    fun `the platform the app sets picks the rule that gates approvals`() = enrolled { auth, account ->
        auth.setPlatform(Platform.ANDROID)
        auth.enablePasswordless(account.id, Platform.ANDROID)
        // An issuer's rule: Android passwordless without the unlock; the desktop keeps it.
        auth.setPasswordlessRules("""{"passwordless":{"android":{"max_accounts":1,"require_device_unlock":false},"desktop":{"max_accounts":1}}}""")
        val request = auth.handleNotification(StandIn.notification("number_matching"))
        auth.setPlatform(Platform.DESKTOP)
        val refused = assertThrows<AuthCoreException.ApprovalRefused> {
            auth.approvePush(request.nonce, StandIn.presenceAnswer, false)
        }
        assertTrue(refused.message!!.contains("device unlock"), refused.message)
        auth.setPlatform(Platform.ANDROID)
        auth.approvePush(request.nonce, StandIn.presenceAnswer, false)
        assertTrue(auth.pendingPushRequests().none { it.nonce == request.nonce })
    }

    @Test
    fun `the coroutine layer polls, denies with a reason and takes FCM data maps`() = runBlocking {
        AuthCore(open()).use { core ->
            core.setSoftwareKeyBits(2048)
            val account = core.enrollPush(StandIn.uri)
            val checked = core.checkPending()
            assertEquals(emptyList<String>(), checked.problems)
            assertEquals(
                setOf(StandIn.nonce("plain"), StandIn.nonce("number_matching")),
                checked.requests.map { it.nonce }.toSet(),
            )
            val offset = checked.serverClockOffset
            assertNotNull(offset, "the stand-in's Date header gives the server clock")
            assertTrue(offset!! in -5L..5L, "server clock offset $offset")

            // FCM hands the data as a Map<String, String>.
            val data = JSONObject(StandIn.notification("plain")).let { o -> o.keySet().associateWith { o.getString(it) } }
            val request = core.handleNotification(data)
            assertEquals(account.id, request.accountId)
            core.deny(request.nonce, DeclineReason.UNKNOWN_TRIGGER)
            assertEquals(listOf(StandIn.nonce("number_matching")), core.checkPending().requests.map { it.nonce })

            // The token is poll-only: no server is told a push token.
            val update = core.updatePushToken("fcm-token-2")
            assertEquals(emptyList<String>(), update.updated)
            assertEquals(emptyList<String>(), update.problems)
        }
    }

    @Test
    fun `an unreachable server is a Network error`() = runBlocking {
        open().use { auth ->
            // Port 9 (discard): nothing listens there on a test machine, so the connection is refused.
            val uri = StandIn.uri.replace(Regex("127\\.0\\.0\\.1%3A\\d+"), "127.0.0.1%3A9")
            val e = assertThrows<AuthCoreException.Network> { runBlocking { auth.enrollPush(uri, null, null) } }
            assertTrue(e.message!!.startsWith("network:"), e.message)
            assertTrue(auth.accounts().isEmpty())
        }
    }
}
