package org.authcore

import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.ConnectException
import java.net.HttpURLConnection
import java.net.NoRouteToHostException
import java.net.Socket
import java.net.SocketTimeoutException
import java.net.URI
import java.net.UnknownHostException
import java.security.cert.CertPathBuilderException
import java.security.cert.CertPathValidatorException
import java.security.cert.CertificateException
import java.security.cert.X509Certificate
import java.util.concurrent.atomic.AtomicBoolean
import javax.net.ssl.HostnameVerifier
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.SSLEngine
import javax.net.ssl.SSLException
import javax.net.ssl.SSLPeerUnverifiedException
import javax.net.ssl.SSLSocketFactory
import javax.net.ssl.X509ExtendedTrustManager
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

/**
 * The default [HttpTransport]: the core's push requests carried by `java.net.HttpURLConnection`,
 * which is the platform's own HTTP stack on Android (so the system trust store, user-installed
 * and enterprise CAs, the network security config and proxies apply) and works unchanged on a
 * plain JVM. An app with an HTTP client of its own (OkHttp, certificate pinning) can implement
 * [HttpTransport] instead; the rules below are what such a transport must keep too.
 *
 * What it does with each [HttpRequest]:
 * - sends exactly the method, headers and body given, never follows a redirect (a 3xx is
 *   returned as it is, and the core refuses it), and uses no HTTP cache;
 * - verifies the server's certificate and host name with the platform's trust store, unless
 *   [HttpRequest.verifyTls] is false (the server itself said `sslverify=0`): then that one
 *   connection accepts any certificate and host name, and is still TLS for an `https` URL.
 *   The process-wide defaults of `HttpsURLConnection` are never changed;
 * - honours [HttpRequest.connectTimeoutMs] for the connection and [HttpRequest.timeoutMs] for
 *   the whole exchange, and stops reading a body longer than [HttpRequest.maxResponseBytes]
 *   ([TransportException.TooLarge]);
 * - reads the body of a 4xx/5xx response too (privacyIDEA explains a refusal in a JSON body
 *   sent with HTTP 400), and returns every response header in the order received (the core
 *   reads `Date` for the server's clock);
 * - runs the blocking I/O on [dispatcher] (I/O by default); cancelling the calling coroutine
 *   (or the total time-out) closes the connection, which ends a blocked read at once. A
 *   connection attempt still ends within its connect time-out, and a DNS lookup, which
 *   `HttpURLConnection` cannot interrupt, within the resolver's own.
 *
 * Failures are [TransportException]s whose reasons come from the exceptions' messages only,
 * never from the URL, whose query string carries a signature: a TLS failure is
 * [TransportException.Tls] (e.g. "the server's certificate is not trusted: ..."), a time-out
 * [TransportException.Timeout], a refused, unresolvable or unreachable host
 * [TransportException.Connection], anything else [TransportException.Other].
 *
 * `HttpURLConnection` has no per-connection switch for cookies: if the app installs a
 * process-wide `java.net.CookieHandler`, it would be consulted. An app that does so should
 * bring a transport of its own without a cookie jar.
 */
class HttpUrlConnectionTransport(
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) : HttpTransport {
    override suspend fun send(request: HttpRequest): HttpResponse {
        // The core never sends a time-out below 1 ms; a hand-made request with 0 or less gets
        // 1 ms rather than withTimeout's "already timed out", which would not even try.
        val total = request.timeoutMs.coerceAtLeast(1L)
        return try {
            withTimeout(total) { withContext(dispatcher) { exchange(request) } }
        } catch (e: TimeoutCancellationException) {
            // Only our own withTimeout throws this here; a caller's cancellation passes through.
            throw TransportException.Timeout()
        }
    }

    /** One request and its response, blocking, on [dispatcher]; disconnects when cancelled. */
    private suspend fun exchange(request: HttpRequest): HttpResponse = coroutineScope {
        val connection = try {
            open(request)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            throw failure(e, request.url)
        }
        val finished = AtomicBoolean(false)
        // Cancelling (the caller, or the total time-out) closes the socket, so a read blocked
        // in this coroutine's thread fails at once instead of waiting for its read time-out.
        val watcher = launch(start = CoroutineStart.UNDISPATCHED) {
            try {
                awaitCancellation()
            } finally {
                if (!finished.get()) connection.disconnect()
            }
        }
        try {
            transfer(connection, request)
        } catch (e: CancellationException) {
            connection.disconnect()
            throw e
        } catch (e: Exception) {
            connection.disconnect()
            ensureActive() // a failure caused by our own disconnect is the cancellation
            throw failure(e, request.url)
        } finally {
            finished.set(true)
            watcher.cancel()
        }
    }

    /** The connection, configured but not yet connected (no I/O happens here). */
    private fun open(request: HttpRequest): HttpURLConnection {
        val uri = URI(request.url)
        val scheme = uri.scheme?.lowercase()
        if (scheme != "https" && scheme != "http") {
            throw TransportException.Other("unsupported URL scheme '${scheme ?: ""}'")
        }
        val connection = uri.toURL().openConnection() as HttpURLConnection
        val total = request.timeoutMs.toMillisInt()
        connection.connectTimeout = minOf(request.connectTimeoutMs.toMillisInt(), total)
        connection.readTimeout = total
        connection.instanceFollowRedirects = false
        connection.useCaches = false
        connection.doInput = true
        connection.requestMethod = when (request.method) {
            HttpMethod.GET -> "GET"
            HttpMethod.POST -> "POST"
        }
        for (header in request.headers) connection.addRequestProperty(header.name, header.value)
        if (connection is HttpsURLConnection && !request.verifyTls) {
            // This connection only: the defaults stay as the platform set them.
            connection.sslSocketFactory = trustAnyCertificate
            connection.hostnameVerifier = acceptAnyHostName
        }
        if (request.method == HttpMethod.POST) {
            connection.doOutput = true
            connection.setFixedLengthStreamingMode(request.body.size)
        }
        return connection
    }

    private fun transfer(connection: HttpURLConnection, request: HttpRequest): HttpResponse {
        if (request.method == HttpMethod.POST) {
            connection.outputStream.use { it.write(request.body) }
        }
        // -1 when the answer has no HTTP status line. The core also refuses a status outside
        // 100..599; saying so here gives the reason instead of a bare number.
        val status = connection.responseCode
        if (status !in 100..599) throw TransportException.Other("the server's answer is not HTTP (status $status)")
        val headers = buildList {
            // By index, to keep the order and every repeated header as sent; index 0 is the
            // status line on both the JDK and Android (a null key).
            var i = 0
            while (true) {
                val value = connection.getHeaderField(i) ?: break
                val name = connection.getHeaderFieldKey(i)
                if (name != null) add(HttpHeader(name, value))
                i++
            }
        }
        val max = request.maxResponseBytes
        val declared = connection.contentLengthLong
        if (declared >= 0 && declared > max) throw TransportException.TooLarge()
        // 4xx/5xx bodies (privacyIDEA's JSON errors) come from the error stream; none at all
        // (e.g. a 204, or an error without a body) is an empty body.
        val stream: InputStream? = if (status >= 400) connection.errorStream else connection.inputStream
        val body = stream?.use { readAtMost(it, max) } ?: ByteArray(0)
        return HttpResponse(status, headers, body)
    }

    private companion object {
        /** Accepts every certificate chain; only ever set on one connection (sslverify=0). */
        @Suppress("TrustAllX509TrustManager", "CustomX509TrustManager")
        object TrustAnyCertificate : X509ExtendedTrustManager() {
            override fun checkClientTrusted(chain: Array<out X509Certificate>?, authType: String?) {}
            override fun checkServerTrusted(chain: Array<out X509Certificate>?, authType: String?) {}
            override fun checkClientTrusted(chain: Array<out X509Certificate>?, authType: String?, socket: Socket?) {}
            override fun checkServerTrusted(chain: Array<out X509Certificate>?, authType: String?, socket: Socket?) {}
            override fun checkClientTrusted(chain: Array<out X509Certificate>?, authType: String?, engine: SSLEngine?) {}
            override fun checkServerTrusted(chain: Array<out X509Certificate>?, authType: String?, engine: SSLEngine?) {}
            override fun getAcceptedIssuers(): Array<X509Certificate> = emptyArray()
        }

        /**
         * The socket factory of unverified connections: made once, used only where set. The
         * HTTP stacks key their pooled connections by socket factory, so a connection opened
         * without verification is never reused by a request that asks for it.
         */
        val trustAnyCertificate: SSLSocketFactory by lazy {
            SSLContext.getInstance("TLS").apply { init(null, arrayOf(TrustAnyCertificate), null) }.socketFactory
        }

        @Suppress("BadHostnameVerifier")
        val acceptAnyHostName = HostnameVerifier { _, _ -> true }

        /** `HttpURLConnection` time-outs are `Int` milliseconds, where 0 means "never": 1 at least. */
        fun Long.toMillisInt(): Int = coerceIn(1L, Int.MAX_VALUE.toLong()).toInt()

        /** The whole stream, or [TransportException.TooLarge] as soon as it passes [max] bytes. */
        fun readAtMost(stream: InputStream, max: Long): ByteArray {
            val out = ByteArrayOutputStream()
            val buffer = ByteArray(16 * 1024)
            var total = 0L
            while (true) {
                val n = stream.read(buffer)
                if (n < 0) break
                total += n
                if (total > max) throw TransportException.TooLarge()
                out.write(buffer, 0, n)
            }
            return out.toByteArray()
        }

        /** The failure as a [TransportException], its reason free of the URL's query string. */
        fun failure(e: Exception, url: String): TransportException = when (e) {
            is TransportException -> e
            is SocketTimeoutException -> TransportException.Timeout()
            is SSLException -> TransportException.Tls(tlsReason(e, url))
            is UnknownHostException -> TransportException.Connection("unknown host: ${reason(e, url)}")
            is ConnectException, is NoRouteToHostException -> TransportException.Connection(reason(e, url))
            // The JDK's own host name check on an https connection is a plain IOException.
            else -> if (e is IOException && e.message?.startsWith("HTTPS hostname wrong") == true) {
                TransportException.Tls("the server's certificate does not name this host: ${reason(e, url)}")
            } else {
                TransportException.Other(reason(e, url))
            }
        }

        fun tlsReason(e: SSLException, url: String): String {
            val chain = generateSequence<Throwable>(e) { it.cause }.take(8).toList()
            val text = chain.joinToString(" ") { it.message.orEmpty() }
            val certificate = chain.any {
                it is CertificateException || it is CertPathValidatorException || it is CertPathBuilderException
            }
            return when {
                text.contains("subject alternative", ignoreCase = true) ||
                    text.contains("hostname", ignoreCase = true) ||
                    (e is SSLPeerUnverifiedException && text.contains("not verified")) ->
                    "the server's certificate does not name this host: ${reason(e, url)}"
                certificate || text.contains("PKIX") || text.contains("trust anchor", ignoreCase = true) ->
                    "the server's certificate is not trusted: ${reason(chain.last(), url)}"
                else -> "the TLS handshake failed: ${reason(e, url)}"
            }
        }

        /** An exception's own words (never the URL): its message with any query string cut. */
        fun reason(e: Throwable, url: String): String {
            var text = e.message?.takeIf { it.isNotBlank() } ?: e.javaClass.simpleName
            val query = url.substringAfter('?', "").substringBefore('#')
            text = text.replace(url, url.substringBefore('?').substringBefore('#'))
            if (query.isNotEmpty()) text = text.replace(query, "...")
            text = Regex("""(\w+://[^\s?#]*)[?#]\S*""").replace(text, "$1")
            return text.take(400)
        }
    }
}
