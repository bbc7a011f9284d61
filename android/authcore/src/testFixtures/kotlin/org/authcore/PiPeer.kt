package org.authcore

import java.io.File
import java.net.HttpURLConnection
import java.net.URI
import java.net.URLEncoder
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import org.json.JSONObject

/**
 * The privacyIDEA peer of the push tests (tests/src/bin/pi_peer.rs: a real privacyIDEA 3.14
 * behind a trusted and an untrusted HTTPS front, and a plain-http port), driven through its
 * control API. scripts/test-kotlin.sh starts it and names its description file in
 * AUTHCORE_PI_PEER; without it these tests fail, they never skip.
 *
 * Shared by the JVM tests (android/jvm) and the Robolectric tests (android/android-api).
 */
object PiPeer {
    private val description: JSONObject by lazy {
        val path = System.getenv("AUTHCORE_PI_PEER")
            ?: error("AUTHCORE_PI_PEER is not set: run scripts/test-kotlin.sh, which starts the privacyIDEA peer")
        JSONObject(File(path).readText())
    }

    val control: String get() = description.getString("control")
    val trustedPushUrl: String get() = description.getString("trusted_push_url")
    val untrustedPushUrl: String get() = description.getString("untrusted_push_url")
    val plainPushUrl: String get() = description.getString("plain_push_url")
    val trustedCaDer: File get() = File(description.getString("trusted_ca_der"))

    /** `https://127.0.0.1:PORT`, as the core names a server in [ServerClock.server]. */
    fun origin(url: String): String = URI(url).let { "${it.scheme}://${it.host}:${it.port}" }

    class Enrolled(val uri: String, val serial: String, val user: String, val pin: String)

    class Triggered(
        val transactionId: String,
        val serial: String,
        val nonce: String,
        /** The FCM data map privacyIDEA sent; null for a poll-only token. */
        val notification: Map<String, String>?,
        val answers: List<String>?,
        val correctAnswer: String?,
    )

    /** A fresh user with a push token in rollout whose QR code names [front]. */
    fun enroll(front: String, numberMatching: Boolean = false, pollOnly: Boolean = false): Enrolled {
        val body = JSONObject().put("front", front).put("number_matching", numberMatching).put("poll_only", pollOnly)
        val reply = call("POST", "/enroll", body)
        return Enrolled(reply.getString("uri"), reply.getString("serial"), reply.getString("user"), reply.getString("pin"))
    }

    class ContainerMade(val qr: String, val container: String, val totpSerial: String, val user: String, val pin: String)

    /** A fresh user's smartphone container holding one TOTP token, reached through [front]. */
    fun container(front: String): ContainerMade {
        val reply = call("POST", "/container", JSONObject().put("front", front))
        return ContainerMade(
            reply.getString("qr"),
            reply.getString("container"),
            reply.getString("totp_serial"),
            reply.getString("user"),
            reply.getString("pin"),
        )
    }

    /** Whether privacyIDEA accepts [pass] (PIN and code) for [user] right now. */
    fun check(user: String, pass: String): Boolean =
        call("POST", "/check", JSONObject().put("user", user).put("pass", pass)).getBoolean("accepted")

    /** Starts a login of [enrolled]'s user: privacyIDEA makes a push challenge. */
    fun trigger(enrolled: Enrolled): Triggered {
        val reply = call("POST", "/trigger", JSONObject().put("user", enrolled.user).put("pin", enrolled.pin))
        val notification = reply.optJSONObject("notification")?.let { o -> o.keys().asSequence().associateWith { o.getString(it) } }
        val answers = reply.optJSONArray("answers")?.let { a -> (0 until a.length()).map { a.get(it).toString() } }
        val correct = if (reply.isNull("correct_answer")) null else reply.get("correct_answer").toString()
        return Triggered(reply.getString("transaction_id"), reply.getString("serial"), reply.getString("nonce"), notification, answers, correct)
    }

    /** The login page's view of a transaction: `accept`, `declined`, `pending`, ... */
    fun status(transactionId: String): JSONObject = call("GET", "/status?transaction_id=${encode(transactionId)}")

    /**
     * The transaction's status once it is no longer `pending`, polling every 50 ms for at most
     * [withinMillis] (privacyIDEA records an answer before it replies to the phone, so the
     * first look normally sees it).
     */
    fun settledStatus(transactionId: String, withinMillis: Long = 10_000): JSONObject {
        val deadline = System.nanoTime() + withinMillis * 1_000_000
        while (true) {
            val status = status(transactionId)
            if (status.getString("status") != "pending" || System.nanoTime() > deadline) return status
            Thread.sleep(50)
        }
    }

    /** The token as privacyIDEA has it: `rollout_state` is `clientwait` until a phone registered. */
    fun token(serial: String): JSONObject = call("GET", "/token?serial=${encode(serial)}")

    /** [uri] with its `url` parameter replaced (the parameters are not signed). */
    fun withUrl(uri: String, url: String): String =
        uri.replace(Regex("([?&]url=)[^&]*"), "$1" + encode(url))

    private fun encode(text: String): String = URLEncoder.encode(text, "UTF-8")

    private fun call(method: String, path: String, body: JSONObject? = null): JSONObject {
        val connection = URI(control + path).toURL().openConnection() as HttpURLConnection
        connection.requestMethod = method
        connection.connectTimeout = 5_000
        connection.readTimeout = 60_000
        if (body != null) {
            connection.doOutput = true
            connection.setRequestProperty("Content-Type", "application/json")
            connection.outputStream.use { it.write(body.toString().toByteArray()) }
        }
        val status = connection.responseCode
        val text = (if (status >= 400) connection.errorStream else connection.inputStream)?.use { it.readBytes().decodeToString() }.orEmpty()
        connection.disconnect()
        check(status == 200) { "pi peer $method ${path.substringBefore('?')}: HTTP $status $text" }
        return JSONObject(text)
    }

    /**
     * Fails unless this JVM's trust store (javax.net.ssl.trustStore, made by
     * scripts/test-kotlin.sh) holds the trusted front's CA: the trusted front must be accepted
     * only because its CA is in the runtime's trust store.
     */
    fun requireTrustedCaInTrustStore() {
        val path = System.getProperty("javax.net.ssl.trustStore")?.takeIf { it.isNotBlank() }
            ?: error("javax.net.ssl.trustStore is not set: run scripts/test-kotlin.sh, which makes the trust store")
        val password = System.getProperty("javax.net.ssl.trustStorePassword").orEmpty().toCharArray()
        val type = System.getProperty("javax.net.ssl.trustStoreType")?.takeIf { it.isNotBlank() } ?: KeyStore.getDefaultType()
        val store = KeyStore.getInstance(type)
        File(path).inputStream().use { store.load(it, password) }
        val ca = trustedCaDer.inputStream().use { CertificateFactory.getInstance("X.509").generateCertificate(it) as X509Certificate }
        check(store.getCertificateAlias(ca) != null) { "the trust store $path does not hold the pi peer's trusted CA" }
        check(store.size() > 1) { "the trust store $path holds only the peer's CA, not the platform's" }
    }
}
