package org.authcore

import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import kotlin.test.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

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
        val pair = keys[alias] ?: throw AuthCoreKeyStoreException.WrongKey()
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
    override fun generate(alias: String): ByteArray = throw AuthCoreKeyStoreException.Unavailable("device locked")
    override fun sign(alias: String, message: ByteArray): ByteArray = throw AuthCoreKeyStoreException.Unavailable("device locked")
    override fun delete(alias: String) {}
}

/** The default transport, with a line per request it carried ("POST https://host/path -> 200"). */
class RecordingTransport(private val inner: HttpTransport = HttpUrlConnectionTransport()) : HttpTransport {
    val sent = ConcurrentLinkedQueue<String>()

    override suspend fun send(request: HttpRequest): HttpResponse {
        val line = "${request.method} ${request.url.substringBefore('?')}"
        try {
            return inner.send(request).also { sent.add("$line -> ${it.status}") }
        } catch (e: TransportException) {
            sent.add("$line -> ${e.javaClass.simpleName}")
            throw e
        }
    }
}

/**
 * The Kotlin push layer against a real privacyIDEA 3.14 (the pi peer), over TLS, through
 * [HttpUrlConnectionTransport]: enrollment, FCM notifications, polls, answers, refusals.
 * Every test enrolls a fresh user's token into a fresh vault, so they are independent.
 *
 * Device keys are software RSA-2048 keys (`AuthCore.software(2048)`): generating them is fast,
 * where 4096 bits would take seconds per enrollment; the Keystore path is the
 * [DeviceKeys.PlatformStore] test with a Kotlin key store.
 */
class PushTest {
    companion object {
        @JvmStatic
        @BeforeAll
        fun trustStore() {
            // The trusted front is accepted only because scripts/test-kotlin.sh put its CA into
            // the trust store of this JVM; fail at once if that did not happen.
            PiPeer.requireTrustedCaInTrustStore()
        }
    }

    private val dir: Path = Files.createTempDirectory("authcore-kotlin-push")

    @AfterEach
    fun cleanUp() {
        dir.toFile().deleteRecursively()
    }

    private suspend fun open(
        name: String = "vault.sqlite",
        transport: HttpTransport = HttpUrlConnectionTransport(),
        deviceKeys: DeviceKeys = AuthCore.software(2048),
        platform: Platform = Platform.ANDROID,
        timeSource: TimeSource = systemTimeSource(),
    ): AuthCore = AuthCore.open(dir.resolve(name).toString(), SoftwareKeyStore(), platform, deviceKeys, transport, timeSource)

    private suspend fun AuthCore.enroll(enrolled: PiPeer.Enrolled, pushToken: String? = "fcm-token-1"): Account =
        enrollPush(scanPushEnrollment(enrolled.uri), pushToken)

    private fun assertStatus(want: String, transactionId: String) {
        val status = PiPeer.settledStatus(transactionId)
        assertEquals(want, status.getString("status"), "privacyIDEA's view: $status")
    }

    @Test
    fun `enrolls over verified TLS, takes privacyIDEA's FCM notification and approves it`(): Unit = runBlocking {
        val transport = RecordingTransport()
        open(transport = transport).use { core ->
            val enrolled = PiPeer.enroll("trusted")
            val scan = core.scanPushEnrollment(enrolled.uri)
            val preview = scan.preview()
            assertEquals(enrolled.serial, preview.serial)
            assertEquals("privacyIDEA", preview.issuer)
            assertEquals(PiPeer.trustedPushUrl, preview.url)
            assertTrue(preview.sslverify)
            assertFalse(preview.pollOnly)
            assertEquals(preview.scannedAt.plus(preview.ttl), preview.expiresAt)
            val credential = Regex("enrollment_credential=([0-9a-f]+)").find(enrolled.uri)!!.groupValues[1]
            assertFalse(preview.toString().contains(credential), "the one-time credential stays inside")

            val account = core.enrollPush(scan, "fcm-token-1")
            assertEquals(OtpType.PUSH, account.otpType)
            assertEquals(enrolled.serial, account.pushSerial)
            assertEquals(listOf(account), core.accounts())
            assertEquals("enrolled", PiPeer.token(enrolled.serial).getString("rollout_state"))
            assertEquals(listOf("POST ${PiPeer.trustedPushUrl} -> 200"), transport.sent.toList(), "registered through the Kotlin transport")
            val again = assertThrows<AuthCoreException.InvalidInput> { runBlocking { core.enrollPush(scan) } }
            assertEquals("this enrollment QR code was already used: scan it again", again.message)

            val triggered = PiPeer.trigger(enrolled)
            val data = assertNotNull(triggered.notification, "privacyIDEA sent an FCM message")
            val request = core.handleNotification(data)
            assertEquals(triggered.nonce, request.nonce)
            assertEquals(account.id, request.accountId)
            assertEquals(enrolled.serial, request.serial)
            assertNull(request.answers)
            assertEquals(listOf(request), core.pendingPushRequests())
            assertEquals(request, core.handleNotification(data), "delivered twice, kept once")
            // The same data as JSON (a relay's form), and as privacyIDEA's gateway message.
            assertEquals(request, core.handleNotificationJson(JSONObject(data).toString()))
            val gateway = JSONObject().put("device_token", "fcm-token-1").put("data", JSONObject(data))
            assertEquals(request, core.handleNotificationJson(gateway.toString()))
            // A SECURITY EVENT: the same request with its question changed on the way.
            val tampered = data + ("question" to "${data["question"]} (changed)")
            val forged = assertThrows<AuthCoreException.Forged> { core.handleNotification(tampered) }
            assertEquals(enrolled.serial, forged.serial)
            assertEquals(
                "push request for ${enrolled.serial}: the server signature does not verify; it was not sent by the enrolled server",
                forged.message,
            )
            assertEquals(listOf(request), core.pendingPushRequests(), "a forged request is not kept")

            assertNull(core.approve(request.nonce).displayCode)
            assertStatus("accept", triggered.transactionId)
            assertTrue(core.pendingPushRequests().isEmpty())
            val replay = assertThrows<AuthCoreException.Replayed> { core.handleNotification(data) }
            assertEquals(request.nonce, replay.nonce)
            assertEquals("push request ${request.nonce} was already answered", replay.message)
            assertTrue(transport.sent.all { it.startsWith("POST ${PiPeer.trustedPushUrl} -> 200") }, "${transport.sent}")
        }
    }

    @Test
    fun `a denial with a reason reaches privacyIDEA as declined`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("trusted")
            core.enroll(enrolled)
            val triggered = PiPeer.trigger(enrolled)
            val request = core.handleNotification(assertNotNull(triggered.notification))
            assertTrue(request.declineReasons, "privacyIDEA 3.14 signs the decline-reason capability")
            core.deny(request.nonce, DeclineReason.UNKNOWN_TRIGGER)
            assertStatus("declined", triggered.transactionId)
            assertTrue(core.pendingPushRequests().isEmpty())
        }
    }

    @Test
    fun `number matching - a wrong choice is refused and stays open, the right one is accepted`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("trusted", numberMatching = true)
            core.enroll(enrolled)
            val triggered = PiPeer.trigger(enrolled)
            val answers = assertNotNull(triggered.answers)
            val correct = assertNotNull(triggered.correctAnswer)
            val request = core.handleNotification(assertNotNull(triggered.notification))
            assertEquals(answers, request.answers)
            val wrong = answers.first { it != correct }
            val refused = assertThrows<AuthCoreException.AnswerRefused> { runBlocking { core.approve(request.nonce, wrong) } }
            assertEquals(request.nonce, refused.nonce)
            assertEquals("the server refused the request", refused.message)
            assertEquals(listOf(request.nonce), core.pendingPushRequests().map { it.nonce }, "still open")
            core.approve(request.nonce, correct)
            assertStatus("accept", triggered.transactionId)
        }
    }

    @Test
    fun `a poll finds the request without a notification, and poll-to-approved is timed`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("trusted", pollOnly = true)
            val scan = core.scanPushEnrollment(enrolled.uri)
            assertTrue(scan.preview().pollOnly)
            val account = core.enrollPush(scan, null)
            val millis = (1..5).map {
                val triggered = PiPeer.trigger(enrolled)
                assertNull(triggered.notification, "a poll-only token gets no push message")
                val started = System.nanoTime()
                val checked = core.checkPending()
                val request = checked.requests.single()
                core.approve(request.nonce)
                val elapsed = (System.nanoTime() - started) / 1_000_000
                assertEquals(emptyList<String>(), checked.problems)
                assertEquals(triggered.nonce, request.nonce)
                assertEquals(account.id, request.accountId)
                val clock = checked.serverClocks.single()
                assertEquals(PiPeer.origin(PiPeer.trustedPushUrl), clock.server)
                assertTrue(clock.offsetMs in -5_000L..5_000L, "server clock offset ${clock.offsetMs} ms")
                assertStatus("accept", triggered.transactionId)
                elapsed
            }
            val median = millis.sorted()[millis.size / 2]
            println("kotlin poll-to-approved: $median ms (median of ${millis.size}: $millis)")
            assertTrue(core.checkPending().requests.isEmpty())
        }
    }

    @Test
    fun `the untrusted front is refused as a certificate problem and nothing is enrolled`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("untrusted")
            val scan = core.scanPushEnrollment(enrolled.uri)
            assertTrue(scan.preview().sslverify)
            val e = assertThrows<AuthCoreException.Network> { runBlocking { core.enrollPush(scan) } }
            val message = e.message
            println("untrusted front refused: $message")
            assertTrue(message.contains("TLS") && message.contains("certificate"), message)
            assertFalse(message.contains("enrollment_credential"), message)
            assertTrue(core.accounts().isEmpty())
            assertEquals("clientwait", PiPeer.token(enrolled.serial).getString("rollout_state"))
        }
    }

    @Test
    fun `plain http works when the server itself said sslverify=0`(): Unit = runBlocking {
        val transport = RecordingTransport()
        open(transport = transport).use { core ->
            val enrolled = PiPeer.enroll("plain")
            val scan = core.scanPushEnrollment(enrolled.uri)
            assertFalse(scan.preview().sslverify)
            assertEquals(PiPeer.plainPushUrl, scan.preview().url)
            core.enrollPush(scan, "fcm-token-1")
            val triggered = PiPeer.trigger(enrolled)
            val request = core.handleNotification(assertNotNull(triggered.notification))
            core.approve(request.nonce)
            assertStatus("accept", triggered.transactionId)
            assertEquals(
                listOf("POST ${PiPeer.plainPushUrl} -> 200", "POST ${PiPeer.plainPushUrl} -> 200"),
                transport.sent.toList(),
            )
        }
    }

    @Test
    fun `plain http is refused by the core when the server said sslverify=1`(): Unit = runBlocking {
        val transport = RecordingTransport()
        open(transport = transport).use { core ->
            val enrolled = PiPeer.enroll("trusted")
            // The QR code's parameters are not signed: point its url at privacyIDEA's plain port,
            // which would answer if the core sent anything there.
            val downgraded = PiPeer.withUrl(enrolled.uri, PiPeer.plainPushUrl)
            assertTrue(downgraded.contains("sslverify=1") && downgraded.contains("url=http%3A"), downgraded)
            val e = assertThrows<AuthCoreException.BadPush> { core.scanPushEnrollment(downgraded) }
            println("plain http with sslverify=1 refused: ${e.javaClass.simpleName}: ${e.message}")
            assertEquals("url: plain http:// is refused unless the server itself sets sslverify=0", e.message)
            assertTrue(transport.sent.isEmpty(), "nothing was sent: ${transport.sent}")
            assertEquals("clientwait", PiPeer.token(enrolled.serial).getString("rollout_state"))
        }
    }

    @Test
    fun `a Kotlin DeviceKeyStore holds the device key and signs the answers`(): Unit = runBlocking {
        val store = JavaDeviceKeyStore()
        open(deviceKeys = DeviceKeys.PlatformStore(store)).use { core ->
            val enrolled = PiPeer.enroll("trusted")
            val account = core.enroll(enrolled)
            assertEquals(setOf(account.id), store.keys.keys, "the key is kept under the account id")
            val signedAtEnrollment = store.signatures.get()
            val triggered = PiPeer.trigger(enrolled)
            core.approve(core.handleNotification(assertNotNull(triggered.notification)).nonce)
            assertStatus("accept", triggered.transactionId)
            assertEquals(signedAtEnrollment + 1, store.signatures.get(), "the answer was signed by the Kotlin key")
        }
        // A key store that cannot be used: a readable KeyStore error, and nothing enrolled.
        open("locked.sqlite", deviceKeys = DeviceKeys.PlatformStore(LockedDeviceKeyStore())).use { core ->
            val enrolled = PiPeer.enroll("trusted")
            val e = assertThrows<AuthCoreException.KeyStore> { runBlocking { core.enroll(enrolled) } }
            assertEquals("device key: key store unavailable: device locked", e.message)
            assertTrue(core.accounts().isEmpty())
        }
    }

    @Test
    fun `passwordless on Android needs the number-matching answer and the device unlock`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("trusted", numberMatching = true)
            val account = core.enroll(enrolled)
            assertTrue(core.enablePasswordless(account.id).passwordless, "the rule of the platform given at open")
            val triggered = PiPeer.trigger(enrolled)
            val request = core.handleNotification(assertNotNull(triggered.notification))
            assertTrue(request.passwordless)
            val unanswered = assertThrows<AuthCoreException.NeedsNumberMatching> {
                runBlocking { core.approve(request.nonce, null, deviceUnlocked = true) }
            }
            assertEquals(enrolled.serial, unanswered.serial)
            val locked = assertThrows<AuthCoreException.NeedsUnlock> {
                runBlocking { core.approve(request.nonce, triggered.correctAnswer, deviceUnlocked = false) }
            }
            assertEquals(enrolled.serial, locked.serial)
            assertEquals("approval refused: ${account.issuer} (${enrolled.serial}): a passwordless sign-in needs the device unlocked (biometric or PIN) first", locked.message)
            core.approve(request.nonce, triggered.correctAnswer, deviceUnlocked = true)
            assertStatus("accept", triggered.transactionId)
        }
    }

    @Test
    fun `a request answered after its time is Expired, and nothing reaches the server`(): Unit = runBlocking {
        // The wall clock, moved on by the test: the phone answering long after the push came.
        val clock = object : TimeSource {
            @Volatile var later = 0L
            override fun nowUnixSeconds(): Long = System.currentTimeMillis() / 1000 + later
        }
        val transport = RecordingTransport(HttpUrlConnectionTransport())
        open(transport = transport, timeSource = clock).use { core ->
            val enrolled = PiPeer.enroll("trusted")
            core.enroll(enrolled)
            val triggered = PiPeer.trigger(enrolled)
            val request = core.handleNotification(assertNotNull(triggered.notification))
            clock.later = 3_600
            val sent = transport.sent.size
            val expired = assertThrows<AuthCoreException.Expired> { runBlocking { core.approve(request.nonce) } }
            assertEquals(request.nonce, expired.nonce)
            assertEquals("push request ${request.nonce} expired (it could be answered for 120 s)", expired.message)
            assertEquals(sent, transport.sent.size, "an expired request is refused here, not sent")
        }
    }

    @Test
    fun `a server answering with an error status is ServerRefused with that status`(): Unit = runBlocking {
        // privacyIDEA answers its errors with a JSON body and HTTP 400; a proxy in front of it
        // may answer 503 with none. The test transport stands in for such a proxy.
        val unavailable = object : HttpTransport {
            override suspend fun send(request: HttpRequest): HttpResponse =
                HttpResponse(503, listOf(HttpHeader("Content-Type", "text/html")), "<h1>maintenance</h1>".toByteArray())
        }
        open(transport = unavailable).use { core ->
            val enrolled = PiPeer.enroll("trusted")
            val refused = assertThrows<AuthCoreException.ServerRefused> {
                runBlocking { core.enrollPush(core.scanPushEnrollment(enrolled.uri)) }
            }
            assertEquals(503, refused.httpStatus)
            assertEquals("server error (HTTP 503)", refused.message)
            assertTrue(core.accounts().isEmpty())
        }
    }

    @Test
    fun `FCM token updates reach privacyIDEA`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("trusted")
            core.enroll(enrolled)
            val update = core.updatePushToken("fcm-token-2")
            assertEquals(emptyList<String>(), update.problems)
            assertEquals(listOf(enrolled.serial), update.updated)
        }
    }

    @Test
    fun `an unreachable server is a Network error without the request's query`(): Unit = runBlocking {
        open().use { core ->
            val enrolled = PiPeer.enroll("plain")
            // Port 9 (discard): nothing listens there on a test machine, so the connection is refused.
            val uri = PiPeer.withUrl(enrolled.uri, "http://127.0.0.1:9/ttype/push")
            val e = assertThrows<AuthCoreException.Network> { runBlocking { core.enrollPush(core.scanPushEnrollment(uri)) } }
            assertTrue(e.message.startsWith("network:"), e.message)
            assertTrue(core.accounts().isEmpty())
        }
    }
}
