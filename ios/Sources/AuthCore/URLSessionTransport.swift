import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The default `HttpTransport`: carries the core's push requests on `URLSession`, so they use
/// the system's trust store (including CAs a user or an MDM profile installed), proxies and
/// network rules, like every other request of the app.
///
/// It follows the rules the core hands every transport:
/// - **No redirects.** A 3xx comes back as it is (the core refuses it): a push server that
///   redirects is misconfigured or intercepted, and a signed poll must not go elsewhere.
/// - **No caches, no cookies, no stored credentials**: an ephemeral session with all three off.
///   Push requests carry their own signatures; nothing about them may be kept or replayed.
/// - **Certificates verified by the platform**, unless the request says `verifyTls == false`
///   (the server's own `sslverify=0`). Then, on Apple platforms, the request goes through a
///   separate session whose delegate accepts any server certificate, so the exception never
///   touches other requests. It is still TLS. On Linux (swift-corelibs-foundation) that is not
///   possible: see `send(request:)`.
/// - **Time-outs**: `timeoutMs` bounds the whole exchange with a deadline of its own, and is
///   also the session's idle timer. URLSession has no separate connect time-out and shows no
///   connect phase, so `connectTimeoutMs` (never more than `timeoutMs`) is covered by that
///   deadline rather than enforced on its own.
/// - **Capped bodies**: a response announcing, or sending, more than `maxResponseBytes` is
///   cancelled as soon as that shows, and `TransportError.tooLarge` is thrown.
/// - **Every response header** is returned (the core reads `Date` for the server's clock).
/// - **Errors never contain the URL's query string** (a poll carries its signature there).
///
/// Nothing waits on a thread: each request is a data task whose delegate callbacks resume a
/// continuation, so awaiting `send` never blocks Swift's cooperative thread pool. Cancelling the
/// awaiting task (the core dropping the request) cancels the data task.
///
/// One instance may serve any number of concurrent requests and vaults; connections to the same
/// server are reused between requests.
///
/// On iOS, App Transport Security blocks plain `http://` unless the app's Info.plist allows it;
/// a privacyIDEA server that says `sslverify=0` over plain http needs such an exception.
public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    /// Verifies certificates with the platform's trust store.
    private let verifying: SessionPair
    #if !canImport(FoundationNetworking)
    /// Accepts any server certificate: used only for requests with `verifyTls == false`.
    private let lenient: SessionPair
    #endif

    public init() {
        verifying = SessionPair(acceptAnyServerCertificate: false)
        #if !canImport(FoundationNetworking)
        lenient = SessionPair(acceptAnyServerCertificate: true)
        #endif
    }

    deinit {
        // A session keeps its delegate, and itself, alive until it is invalidated.
        verifying.session.finishTasksAndInvalidate()
        #if !canImport(FoundationNetworking)
        lenient.session.finishTasksAndInvalidate()
        #endif
    }

    /// Sends `request` as it is and returns what the server answered, whatever its status.
    ///
    /// On Linux, a request with `verifyTls == false` to an `https://` URL throws
    /// `TransportError.tls` without connecting: swift-corelibs-foundation (6.0) never delivers a
    /// server-trust challenge (only HTTP 401 challenges) and offers no per-request way to its
    /// libcurl's `CURLOPT_SSL_VERIFYPEER`, so it cannot accept an unverified certificate, and
    /// turning verification off process-wide is not acceptable. Plain `http://` with
    /// `sslverify=0` works there.
    public func send(request: HttpRequest) async throws -> HttpResponse {
        let redactor = Redactor(url: request.url)
        guard let url = URL(string: request.url),
              let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host != nil
        else {
            throw TransportError.Other(reason: "not an http(s) URL: \(redactor.redactedURL)")
        }
        let pair: SessionPair
        if request.verifyTls || scheme == "http" {
            pair = verifying
        } else {
            #if canImport(FoundationNetworking)
            throw TransportError.Tls(reason: """
                the server asked not to verify its certificate (sslverify=0), which URLSession on \
                Linux cannot do for one request (swift-corelibs-foundation has no server-trust \
                challenge); give the server a certificate this system trusts
                """)
            #else
            pair = lenient
            #endif
        }
        let urlRequest = Self.urlRequest(url: url, request: request)
        let exchange = Exchange(maxBytes: request.maxResponseBytes, redactor: redactor)
        let task = pair.session.dataTask(with: urlRequest)
        pair.router.register(exchange, for: task)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HttpResponse, Error>) in
                guard exchange.start(continuation) else {
                    // Cancelled before it began: the task never runs, so nothing reports on it.
                    pair.router.forget(task)
                    task.cancel()
                    return
                }
                let deadline = DispatchWorkItem { [weak task] in
                    exchange.fail(.Timeout)
                    task?.cancel()
                }
                exchange.onFinish { deadline.cancel() }
                DispatchQueue.global().asyncAfter(
                    deadline: .now() + .milliseconds(Self.clampedMillis(request.timeoutMs)), execute: deadline)
                task.resume()
            }
        } onCancel: {
            exchange.fail(.Other(reason: "the request was cancelled"))
            task.cancel()
        }
    }

    private static func clampedMillis(_ ms: Int64) -> Int {
        // At least 1 ms (the core never sends less; a hand-made 0 or negative still tries once).
        // A day is far beyond any push time-out; it keeps the arithmetic in range.
        Int(min(max(ms, 1), 86_400_000))
    }

    private static func urlRequest(url: URL, request: HttpRequest) -> URLRequest {
        var r = URLRequest(url: url)
        r.httpMethod = request.method == .post ? "POST" : "GET"
        r.cachePolicy = .reloadIgnoringLocalCacheData
        r.httpShouldHandleCookies = false
        // URLSession's idle timer. swift-corelibs-foundation truncates it to whole seconds, so
        // round up; the exact limit is the deadline in `send`.
        r.timeoutInterval = TimeInterval((clampedMillis(request.timeoutMs) + 999) / 1000)
        var seen = Set<String>()
        for header in request.headers {
            if seen.insert(header.name.lowercased()).inserted {
                r.setValue(header.value, forHTTPHeaderField: header.name)
            } else {
                r.addValue(header.value, forHTTPHeaderField: header.name)
            }
        }
        if !request.body.isEmpty { r.httpBody = request.body }
        return r
    }
}

/// One `URLSession` and the delegate that routes its tasks' events to their exchanges.
private struct SessionPair {
    let session: URLSession
    let router: Router

    init(acceptAnyServerCertificate: Bool) {
        let config = URLSessionConfiguration.ephemeral
        config.urlCache = nil
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.httpCookieAcceptPolicy = .never
        config.urlCredentialStorage = nil
        #if !canImport(FoundationNetworking)
        config.waitsForConnectivity = false
        config.tlsMinimumSupportedProtocolVersion = .TLSv12
        #endif
        router = Router(acceptAnyServerCertificate: acceptAnyServerCertificate)
        // A serial delegate queue of the session's own: callbacks of one task arrive in order.
        session = URLSession(configuration: config, delegate: router, delegateQueue: nil)
    }
}

/// The session delegate. swift-corelibs-foundation sends data-task events only to the
/// session's delegate (not to a per-task one), so one delegate per session looks up the
/// exchange of each task by its identifier.
private final class Router: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let acceptAnyServerCertificate: Bool
    private let lock = NSLock()
    private var exchanges: [Int: Exchange] = [:]

    init(acceptAnyServerCertificate: Bool) {
        self.acceptAnyServerCertificate = acceptAnyServerCertificate
    }

    func register(_ exchange: Exchange, for task: URLSessionTask) {
        lock.lock()
        exchanges[task.taskIdentifier] = exchange
        lock.unlock()
    }

    func forget(_ task: URLSessionTask) {
        _ = exchange(task, remove: true)
    }

    private func exchange(_ task: URLSessionTask, remove: Bool = false) -> Exchange? {
        lock.lock()
        defer { lock.unlock() }
        return remove ? exchanges.removeValue(forKey: task.taskIdentifier) : exchanges[task.taskIdentifier]
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        // On Linux the disposition is ignored, so an over-long body is stopped by cancelling.
        if let exchange = exchange(dataTask), !exchange.received(response) {
            dataTask.cancel()
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if let exchange = exchange(dataTask), !exchange.received(data) {
            dataTask.cancel()
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)  // the 3xx itself becomes the response
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, willCacheResponse proposedResponse: CachedURLResponse,
        completionHandler: @escaping (CachedURLResponse?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        exchange(task, remove: true)?.complete(error: error)
    }

    #if !canImport(FoundationNetworking)
    /// Server trust is a session-level challenge on Apple platforms. Only the lenient session
    /// (requests whose server said `sslverify=0`) accepts whatever certificate it is shown;
    /// every other challenge, and every challenge of the verifying session, gets the system's
    /// default handling.
    func urlSession(
        _ session: URLSession, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        guard acceptAnyServerCertificate,
              challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust,
              let trust = challenge.protectionSpace.serverTrust
        else {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        completionHandler(.useCredential, URLCredential(trust: trust))
    }
    #endif
}

/// The state of one request: the body so far, the response, and the continuation to resume
/// exactly once (by completion, the deadline, the size cap or cancellation, whichever is first).
private final class Exchange: @unchecked Sendable {
    private let lock = NSLock()
    private let maxBytes: Int64
    private let redactor: Redactor
    private var continuation: CheckedContinuation<HttpResponse, Error>?
    private var response: HTTPURLResponse?
    private var body = Data()
    /// Why the exchange ended early (time-out, size cap, cancellation); wins over the error the
    /// cancelled task then reports.
    private var failure: TransportError?
    private var finished = false
    private var finishActions: [() -> Void] = []

    init(maxBytes: Int64, redactor: Redactor) {
        self.maxBytes = maxBytes
        self.redactor = redactor
    }

    /// Keeps the continuation; false (after resuming it with the failure) when the exchange
    /// already ended, e.g. the awaiting task was cancelled before the request started.
    func start(_ continuation: CheckedContinuation<HttpResponse, Error>) -> Bool {
        lock.lock()
        if finished {
            let failure = self.failure ?? .Other(reason: "the request was cancelled")
            lock.unlock()
            continuation.resume(throwing: failure)
            return false
        }
        self.continuation = continuation
        lock.unlock()
        return true
    }

    func onFinish(_ action: @escaping () -> Void) {
        lock.lock()
        if finished {
            lock.unlock()
            action()
            return
        }
        finishActions.append(action)
        lock.unlock()
    }

    /// False when the response announces a body over the cap (the exchange has then failed).
    func received(_ response: URLResponse) -> Bool {
        lock.lock()
        self.response = response as? HTTPURLResponse
        let announced = response.expectedContentLength
        lock.unlock()
        if announced > 0, announced > maxBytes {
            fail(.TooLarge)
            return false
        }
        return true
    }

    /// False once the body has grown past the cap (the exchange has then failed).
    func received(_ data: Data) -> Bool {
        lock.lock()
        if finished {
            lock.unlock()
            return false
        }
        let over = Int64(body.count) + Int64(data.count) > maxBytes
        if !over { body.append(data) }
        lock.unlock()
        if over { fail(.TooLarge) }
        return !over
    }

    /// Ends the exchange with `error` unless it has already ended.
    func fail(_ error: TransportError) {
        finish { exchange in
            exchange.failure = error
            return .failure(error)
        }
    }

    func complete(error: Error?) {
        finish { exchange in
            if let error {
                return .failure(exchange.failure ?? exchange.redactor.transportError(error))
            }
            guard let response = exchange.response else {
                return .failure(.Other(reason: "the server sent no HTTP response"))
            }
            // The core refuses a status outside 100...599 too; saying so here gives the reason.
            guard (100...599).contains(response.statusCode) else {
                return .failure(.Other(reason: "the server's answer is not HTTP (status \(response.statusCode))"))
            }
            return .success(HttpResponse(
                status: Int32(response.statusCode),
                headers: Self.headers(response),
                body: exchange.body))
        }
    }

    private func finish(_ outcome: (Exchange) -> Result<HttpResponse, TransportError>) {
        lock.lock()
        if finished {
            lock.unlock()
            return
        }
        finished = true
        let result = outcome(self)
        let continuation = self.continuation
        self.continuation = nil
        let actions = finishActions
        finishActions = []
        body = Data()
        lock.unlock()
        actions.forEach { $0() }
        continuation?.resume(with: result.mapError { $0 as Error })
    }

    private static func headers(_ response: HTTPURLResponse) -> [HttpHeader] {
        response.allHeaderFields.compactMap { name, value in
            guard let name = name as? String else { return nil }
            return HttpHeader(name: name, value: value as? String ?? "\(value)")
        }.sorted { $0.name.lowercased() < $1.name.lowercased() }
    }
}

/// Turns URLSession's errors into `TransportError`s a user can read, without the URL's query
/// string (it carries a poll's signature) or fragment.
struct Redactor: Sendable {
    let url: String
    let redactedURL: String

    init(url: String) {
        self.url = url
        redactedURL = String(url.prefix { $0 != "?" && $0 != "#" })
    }

    /// `text` with the full URL replaced by its redacted form, and any other copy of the query
    /// string removed (some platform messages quote it percent-decoded or on its own).
    func scrub(_ text: String) -> String {
        var text = text.replacingOccurrences(of: url, with: redactedURL)
        if let start = url.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            let rest = String(url[url.index(after: start)...])
            for secret in [rest, rest.removingPercentEncoding ?? rest] where secret.count >= 8 {
                text = text.replacingOccurrences(of: secret, with: "…")
            }
        }
        return text
    }

    func transportError(_ error: Error) -> TransportError {
        guard let urlError = error as? URLError else {
            return .Other(reason: scrub(String(describing: error)))
        }
        let said = scrub(urlError.localizedDescription)
        switch urlError.code {
        case .timedOut:
            return .Timeout
        case .serverCertificateUntrusted, .serverCertificateHasUnknownRoot:
            return .Tls(reason: "the server's certificate is not trusted (\(said))")
        case .serverCertificateHasBadDate, .serverCertificateNotYetValid:
            return .Tls(reason: "the server's certificate is expired or not yet valid (\(said))")
        case .clientCertificateRejected, .clientCertificateRequired:
            return .Tls(reason: "the server wants a client certificate (\(said))")
        case .secureConnectionFailed:
            return .Tls(reason: "a secure connection to the server failed (\(said))")
        case URLError.Code(rawValue: -1022):  // appTransportSecurityRequiresSecureConnection
            return .Tls(reason: "App Transport Security blocks plain http to this server (\(said))")
        case .cannotFindHost, .dnsLookupFailed:
            return .Connection(reason: "the server's name could not be resolved (\(said))")
        case .cannotConnectToHost:
            return .Connection(reason: "the server could not be reached (\(said))")
        case .networkConnectionLost:
            return .Connection(reason: "the connection to the server was lost (\(said))")
        case .notConnectedToInternet, .internationalRoamingOff, .callIsActive, .dataNotAllowed,
             .cannotLoadFromNetwork:
            return .Connection(reason: "the device is offline (\(said))")
        case .cancelled:
            return .Other(reason: "the request was cancelled")
        case .unknown:
            // swift-corelibs-foundation maps most libcurl failures to `.unknown` and puts
            // libcurl's message in the description: classify by it.
            return Self.classifyCurl(said)
        default:
            return .Other(reason: said)
        }
    }

    private static func classifyCurl(_ said: String) -> TransportError {
        let text = said.lowercased()
        if text.contains("certificate") && (text.contains("problem") || text.contains("verify")
            || text.contains("issuer") || text.contains("self-signed") || text.contains("self signed"))
        {
            return .Tls(reason: "the server's certificate is not trusted (\(said))")
        }
        if text.contains("ssl") || text.contains("tls") {
            return .Tls(reason: "a secure connection to the server failed (\(said))")
        }
        if text.contains("resolve") {
            return .Connection(reason: "the server's name could not be resolved (\(said))")
        }
        if text.contains("connect") || text.contains("connection") {
            return .Connection(reason: "the server could not be reached (\(said))")
        }
        if text.contains("timed out") || text.contains("timeout") {
            return .Timeout
        }
        return .Other(reason: said)
    }
}
