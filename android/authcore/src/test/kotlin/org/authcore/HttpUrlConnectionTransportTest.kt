package org.authcore

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import javax.net.ssl.HttpsURLConnection
import kotlin.test.assertIs
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONObject
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The transport's rules, each seen on the wire: a local `com.sun.net.httpserver` server for
 * redirects, error bodies, headers, size caps, time-outs and cancellation, and the pi peer's
 * TLS fronts for certificate verification.
 */
class HttpUrlConnectionTransportTest {
    private val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0).apply {
        executor = Executors.newCachedThreadPool()
        start()
    }
    private val base = "http://127.0.0.1:${server.address.port}"
    private val transport = HttpUrlConnectionTransport()
    /** Released at the end of each test, so a handler waiting on it never outlives the test. */
    private val release = CountDownLatch(1)

    @AfterEach
    fun stop() {
        release.countDown()
        server.stop(0)
        (server.executor as java.util.concurrent.ExecutorService).shutdownNow()
    }

    private fun handle(path: String, handler: (HttpExchange) -> Unit) {
        server.createContext(path) { exchange ->
            try {
                handler(exchange)
            } finally {
                exchange.close()
            }
        }
    }

    private fun HttpExchange.reply(status: Int, body: ByteArray, vararg headers: Pair<String, String>) {
        headers.forEach { (name, value) -> responseHeaders.add(name, value) }
        sendResponseHeaders(status, if (body.isEmpty()) -1 else body.size.toLong())
        if (body.isNotEmpty()) responseBody.write(body)
    }

    private fun request(
        url: String,
        method: HttpMethod = HttpMethod.GET,
        body: ByteArray = ByteArray(0),
        headers: List<HttpHeader> = emptyList(),
        verifyTls: Boolean = true,
        timeoutMs: Long = 10_000,
        maxResponseBytes: Long = 1 shl 20,
    ) = HttpRequest(method, url, headers, body, verifyTls, timeoutMs, 5_000L, maxResponseBytes)

    private fun send(request: HttpRequest): HttpResponse = runBlocking { transport.send(request) }

    @Test
    fun `a POST goes out as given and every response header comes back in order`() {
        handle("/echo") { x ->
            val echo = JSONObject()
                .put("method", x.requestMethod)
                .put("query", x.requestURI.rawQuery)
                .put("type", x.requestHeaders.getFirst("Content-Type"))
                .put("extra", x.requestHeaders.getFirst("X-Authcore"))
                .put("body", x.requestBody.readBytes().decodeToString())
            x.reply(201, echo.toString().toByteArray(), "X-Multi" to "one", "X-Multi" to "two", "Content-Type" to "application/json")
        }
        val response = send(
            request(
                "$base/echo?a=1&b=2",
                HttpMethod.POST,
                "serial=PIPU1&x=%20".toByteArray(),
                listOf(HttpHeader("Content-Type", "application/x-www-form-urlencoded"), HttpHeader("X-Authcore", "yes")),
            ),
        )
        assertEquals(201, response.status)
        val echo = JSONObject(response.body.decodeToString())
        assertEquals("POST", echo.getString("method"))
        assertEquals("a=1&b=2", echo.getString("query"))
        assertEquals("application/x-www-form-urlencoded", echo.getString("type"))
        assertEquals("yes", echo.getString("extra"))
        assertEquals("serial=PIPU1&x=%20", echo.getString("body"))
        val multi = response.headers.filter { it.name.equals("X-Multi", ignoreCase = true) }.map { it.value }
        assertEquals(listOf("one", "two"), multi)
        assertTrue(response.headers.any { it.name.equals("Date", ignoreCase = true) }, "${response.headers}")
    }

    @Test
    fun `a redirect is returned as it is, never followed`() {
        val followed = AtomicInteger()
        handle("/target") { x -> followed.incrementAndGet(); x.reply(200, "target".toByteArray()) }
        handle("/moved") { x -> x.reply(302, "moved".toByteArray(), "Location" to "$base/target") }
        val response = send(request("$base/moved"))
        assertEquals(302, response.status)
        assertEquals("$base/target", response.headers.single { it.name.equals("Location", ignoreCase = true) }.value)
        assertEquals("moved", response.body.decodeToString())
        assertEquals(0, followed.get())
    }

    @Test
    fun `the body of an error response is read, an empty one is empty`() {
        handle("/bad") { x -> x.reply(400, """{"result":{"status":false}}""".toByteArray()) }
        handle("/gone") { x -> x.reply(500, ByteArray(0)) }
        val bad = send(request("$base/bad"))
        assertEquals(400, bad.status)
        assertEquals("""{"result":{"status":false}}""", bad.body.decodeToString())
        val gone = send(request("$base/gone"))
        assertEquals(500, gone.status)
        assertEquals(0, gone.body.size)
    }

    @Test
    fun `privacyIDEA's JSON error with HTTP 400 arrives whole over the trusted front`() {
        PiPeer.requireTrustedCaInTrustStore()
        val response = send(request(PiPeer.trustedPushUrl, HttpMethod.POST, "serial=NOSUCHTOKEN".toByteArray(),
            listOf(HttpHeader("Content-Type", "application/x-www-form-urlencoded"))))
        assertEquals(400, response.status, response.body.decodeToString())
        val json = JSONObject(response.body.decodeToString())
        assertFalse(json.getJSONObject("result").getBoolean("status"), "$json")
    }

    @Test
    fun `a body past the cap is TooLarge, whether declared or streamed`() {
        val big = ByteArray(64 * 1024) { 'x'.code.toByte() }
        handle("/declared") { x -> x.reply(200, big) }
        handle("/streamed") { x ->
            x.sendResponseHeaders(200, 0) // chunked: no length to check up front
            repeat(16) { x.responseBody.write(big) }
        }
        handle("/fits") { x -> x.reply(200, big) }
        assertThrows<TransportException.TooLarge> { send(request("$base/declared", maxResponseBytes = 1024)) }
        assertThrows<TransportException.TooLarge> { send(request("$base/streamed", maxResponseBytes = 100_000)) }
        assertEquals(big.size, send(request("$base/fits", maxResponseBytes = big.size.toLong())).body.size)
    }

    @Test
    fun `the whole exchange is bounded by its time-out`() {
        // The server keeps the exchange going: a byte of body every 20 ms, so the per-read
        // time-out (as long as the whole, 1 s) never fires and only the total bound can end it.
        // Without that bound the body would end after a minute and arrive whole.
        val answering = CountDownLatch(1)
        val finished = AtomicBoolean(false)
        val closedByClient = CountDownLatch(1)
        handle("/trickle") { x ->
            x.sendResponseHeaders(200, 0)
            answering.countDown()
            try {
                repeat(3_000) {
                    x.responseBody.write('x'.code)
                    x.responseBody.flush()
                    if (release.await(20, TimeUnit.MILLISECONDS)) return@handle
                }
                finished.set(true)
            } catch (e: java.io.IOException) {
                closedByClient.countDown()
            }
        }
        assertThrows<TransportException.Timeout> { send(request("$base/trickle", timeoutMs = 1_000)) }
        assertTrue(answering.await(0, TimeUnit.SECONDS), "the server was answering")
        assertFalse(finished.get(), "the time-out came while the server was still sending")
        // ... and the connection was closed: the server's next writes fail.
        assertTrue(closedByClient.await(60, TimeUnit.SECONDS), "the server never saw the connection closed")
    }

    @Test
    fun `cancelling the caller closes the connection at once`(): Unit = runBlocking {
        // A server that reads the request and never answers: the connection ends only when the
        // client closes it, which the server sees as the end of its input.
        ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")).use { silent ->
            val entered = CountDownLatch(1)
            val closedByClient = CountDownLatch(1)
            Thread {
                runCatching {
                    silent.accept().use { socket ->
                        val input = socket.getInputStream()
                        var head = ""
                        while (!head.endsWith("\r\n\r\n")) {
                            val b = input.read()
                            if (b < 0) return@Thread
                            head += b.toChar()
                        }
                        entered.countDown()
                        try {
                            if (input.read() < 0) closedByClient.countDown()
                        } catch (e: java.io.IOException) {
                            closedByClient.countDown() // reset rather than closed: closed too
                        }
                    }
                }
            }.apply { isDaemon = true; start() }
            // No time-out in reach (a day): only the cancellation can end the blocked read.
            val url = "http://127.0.0.1:${silent.localPort}/hang"
            val call = async(Dispatchers.Default) { transport.send(request(url, timeoutMs = 86_400_000)) }
            assertTrue(entered.await(60, TimeUnit.SECONDS), "the request reached the server")
            call.cancel()
            // Bounds on hanging, not on speed: without the close both would wait for a day.
            assertTrue(closedByClient.await(60, TimeUnit.SECONDS), "cancelling did not close the connection")
            withTimeout(60_000) { call.join() }
            assertTrue(call.isCancelled)
        }
    }

    @Test
    fun `a refused connection is a Connection failure whose reason has no query string`() {
        val port = ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")).use { it.localPort }
        val e = assertThrows<TransportException.Connection> {
            send(request("http://127.0.0.1:$port/ttype/push?serial=S&signature=SECRETSIGNATURE"))
        }
        assertFalse(e.reason.contains("SECRETSIGNATURE") || e.reason.contains("signature="), e.reason)
        assertTrue(e.reason.isNotBlank())
        val bad = assertThrows<TransportException.Other> { send(request("ftp://127.0.0.1/x?signature=SECRETSIGNATURE")) }
        assertFalse(bad.reason.contains("SECRETSIGNATURE"), bad.reason)
    }

    @Test
    fun `certificates are verified with the runtime's trust store unless verifyTls is false`() {
        PiPeer.requireTrustedCaInTrustStore()
        val defaultFactory = HttpsURLConnection.getDefaultSSLSocketFactory()
        val defaultVerifier = HttpsURLConnection.getDefaultHostnameVerifier()
        val get = { url: String, verify: Boolean -> request("$url?signature=SECRETSIGNATURE", verifyTls = verify) }

        // The trusted front: its CA was added to this JVM's trust store by the test script.
        assertTrue(send(get(PiPeer.trustedPushUrl, true)).status in 200..499)
        // The untrusted front: its CA is nowhere; refused, and said so.
        val refused = assertThrows<TransportException.Tls> { send(get(PiPeer.untrustedPushUrl, true)) }
        assertTrue(refused.reason.contains("certificate is not trusted"), refused.reason)
        assertFalse(refused.reason.contains("SECRETSIGNATURE"), refused.reason)
        // sslverify=0: that connection accepts the certificate, and is still TLS (the front
        // speaks nothing else).
        assertTrue(send(get(PiPeer.untrustedPushUrl, false)).status in 200..499)
        // ... and only that connection: the next verified request is refused again, and the
        // process-wide defaults are untouched.
        assertIs<TransportException.Tls>(assertThrows<TransportException> { send(get(PiPeer.untrustedPushUrl, true)) })
        assertSame(defaultFactory, HttpsURLConnection.getDefaultSSLSocketFactory())
        assertSame(defaultVerifier, HttpsURLConnection.getDefaultHostnameVerifier())
    }

    @Test
    fun `plain http to a TLS port fails readably, and TLS to a plain port is a TLS failure`() {
        val tlsPort = java.net.URI(PiPeer.trustedPushUrl).port
        val plain = assertThrows<TransportException> { send(request("http://127.0.0.1:$tlsPort/ttype/push", timeoutMs = 3_000)) }
        assertTrue(plain.message!!.isNotBlank() || plain is TransportException.Timeout, "$plain")
        // A server that speaks plain HTTP at once, whatever it is sent: not a TLS handshake.
        ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1")).use { plainServer ->
            val answering = Thread {
                runCatching {
                    plainServer.accept().use { socket ->
                        socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".toByteArray())
                        socket.getOutputStream().flush()
                        release.await(10, TimeUnit.SECONDS)
                    }
                }
            }.apply { isDaemon = true; start() }
            val tls = assertThrows<TransportException.Tls> {
                send(request("https://127.0.0.1:${plainServer.localPort}/x", timeoutMs = 5_000))
            }
            assertTrue(tls.reason.startsWith("the TLS handshake failed"), tls.reason)
            release.countDown()
            answering.join(5_000)
        }
    }
}
