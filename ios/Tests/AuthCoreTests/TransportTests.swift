import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import AuthCore

/// A tiny HTTP/1.1 server on 127.0.0.1 for the transport's own rules (redirects, caps,
/// time-outs, cookies, caching), which privacyIDEA never exercises. One request per connection;
/// `reply` answers each after the head and body were read.
final class LocalServer: @unchecked Sendable {
    struct Reply: Sendable {
        var status = 200
        var headers: [(String, String)] = []
        var body = Data()
        /// Wait this long before answering.
        var delayMs = 0
        /// Send Content-Length (otherwise the body ends when the connection closes).
        var contentLength = true
        /// Hold the answer until this gate opens (at most a minute), after `reply` returned.
        var holdUntil: TestGate?
        /// After the head (no Content-Length), send the body one byte at a time, 20 ms apart,
        /// until the client closes the connection or the gate opens; up to 3,000 bytes (a minute),
        /// then end the body.
        var trickleUntil: TestGate?
    }

    struct Seen: Sendable {
        let head: String
        let body: Data
        var requestLine: String { head.components(separatedBy: "\r\n").first ?? "" }
        func header(_ name: String) -> String? {
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    private(set) var port: UInt16 = 0
    private let listener: Int32
    private let reply: @Sendable (Seen) -> Reply
    private let lock = NSLock()
    private var seen: [Seen] = []
    private var connections = 0

    private var trickles: (ended: Int, closedByClient: Int) = (0, 0)

    var requests: [Seen] { lock.lock(); defer { lock.unlock() }; return seen }
    var connectionCount: Int { lock.lock(); defer { lock.unlock() }; return connections }
    /// Trickled bodies that ran to their end, and those the client cut off by closing.
    var trickled: (ended: Int, closedByClient: Int) { lock.lock(); defer { lock.unlock() }; return trickles }

    init(reply: @escaping @Sendable (Seen) -> Reply) throws {
        self.reply = reply
        #if os(Linux)
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        listener = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard listener >= 0 else { throw PeerError("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        #if !os(Linux)
        addr.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw PeerError("bind/listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            lock.lock(); connections += 1; lock.unlock()
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        #if !os(Linux)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        let separator = Data("\r\n\r\n".utf8)
        var headEnd: Range<Data.Index>?
        while headEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            headEnd = buffer.range(of: separator)
        }
        let head = String(decoding: buffer[..<headEnd!.lowerBound], as: UTF8.self)
        var body = Data(buffer[headEnd!.upperBound...])
        let partial = Seen(head: head, body: Data())
        let length = Int(partial.header("Content-Length") ?? "0") ?? 0
        while body.count < length {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            body.append(contentsOf: chunk[0..<n])
        }
        let request = Seen(head: head, body: body)
        lock.lock(); seen.append(request); lock.unlock()
        let answer = reply(request)
        if answer.delayMs > 0 { usleep(useconds_t(answer.delayMs) * 1000) }
        if let hold = answer.holdUntil { _ = hold.block(seconds: 60) }
        var text = "HTTP/1.1 \(answer.status) X\r\nConnection: close\r\n"
        for (name, value) in answer.headers { text += "\(name): \(value)\r\n" }
        if answer.contentLength && answer.trickleUntil == nil { text += "Content-Length: \(answer.body.count)\r\n" }
        text += "\r\n"
        var out = Data(text.utf8)
        out.append(answer.body)
        guard sendAll(fd, out) else { return }
        guard let stop = answer.trickleUntil else { return }
        for _ in 0..<3_000 {
            guard sendAll(fd, Data("x".utf8)) else {
                lock.lock(); trickles.closedByClient += 1; lock.unlock()
                return
            }
            if stop.block(seconds: 0.02) { return }
        }
        lock.lock(); trickles.ended += 1; lock.unlock()
    }

    /// False when the connection is gone.
    private func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                #if os(Linux)
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }
}

/// A one-shot signal for tests, opened once: waited for by a thread (blocking) or by a task
/// (suspending). Every wait has a time-out that fails it (false) rather than hanging, fired by
/// GCD, so a waiter fails even while the cooperative pool is saturated: a bound on hanging, not
/// a measure of speed.
final class TestGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]

    var opened: Bool { condition.lock(); defer { condition.unlock() }; return isOpen }

    func open() {
        condition.lock()
        guard !isOpen else { condition.unlock(); return }
        isOpen = true
        let woken = waiters
        waiters = [:]
        condition.broadcast()
        condition.unlock()
        woken.values.forEach { $0.resume(returning: true) }
    }

    /// Blocks the calling thread (never one of the cooperative pool's) until open: false
    /// after `seconds`.
    func block(seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !isOpen {
            if !condition.wait(until: deadline) { return isOpen }
        }
        return true
    }

    /// Suspends until open: false after `seconds`.
    func wait(seconds: Double) async -> Bool {
        let id = UUID()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            condition.lock()
            if isOpen {
                condition.unlock()
                continuation.resume(returning: true)
                return
            }
            waiters[id] = continuation
            condition.unlock()
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                condition.lock()
                let late = waiters.removeValue(forKey: id)
                condition.unlock()
                late?.resume(returning: false)
            }
        }
    }
}

/// Counts arrivals; `all` opens at the `expected`th.
final class TestTally: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = 0
    let expected: Int
    let all = TestGate()

    init(_ expected: Int) { self.expected = expected }

    var count: Int { lock.lock(); defer { lock.unlock() }; return seen }

    func arrive() {
        lock.lock()
        seen += 1
        let reached = seen == expected
        lock.unlock()
        if reached { all.open() }
    }
}

/// `URLSessionTransport` on its own: the rules the core hands every transport.
final class TransportTests: XCTestCase {
    let transport = URLSessionTransport()
    var servers: [LocalServer] = []

    override func tearDown() {
        servers.forEach { $0.stop() }
    }

    func server(_ reply: @escaping @Sendable (LocalServer.Seen) -> LocalServer.Reply) throws -> LocalServer {
        let server = try LocalServer(reply: reply)
        servers.append(server)
        return server
    }

    func request(_ url: String, method: HttpMethod = .get, headers: [HttpHeader] = [], body: Data = Data(),
                 verifyTls: Bool = true, timeoutMs: Int64 = 10_000, maxBytes: Int64 = 1024 * 1024) -> HttpRequest {
        HttpRequest(method: method, url: url, headers: headers, body: body, verifyTls: verifyTls,
                    timeoutMs: timeoutMs, connectTimeoutMs: min(timeoutMs, 5_000), maxResponseBytes: maxBytes)
    }

    func transportError(_ body: () async throws -> HttpResponse, file: StaticString = #filePath, line: UInt = #line) async -> TransportError? {
        do {
            let response = try await body()
            XCTFail("expected a TransportError, got HTTP \(response.status)", file: file, line: line)
        } catch let error as TransportError {
            return error
        } catch {
            XCTFail("expected a TransportError, got \(error)", file: file, line: line)
        }
        return nil
    }

    func testTheRequestGoesOutAsBuiltAndEveryResponseHeaderComesBack() async throws {
        let server = try server { _ in
            .init(status: 201, headers: [("Date", "Tue, 01 Dec 2026 08:00:00 GMT"), ("X-Privacyidea", "3.14")],
                  body: Data(#"{"result":{"status":true}}"#.utf8))
        }
        let response = try await transport.send(request: request(
            server.url("/ttype/push"), method: .post,
            headers: [HttpHeader(name: "Accept", value: "application/json"),
                      HttpHeader(name: "User-Agent", value: "authcore/test"),
                      HttpHeader(name: "Content-Type", value: "application/x-www-form-urlencoded")],
            body: Data("serial=PIPU1&pubkey=abc%2B".utf8)))
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), #"{"result":{"status":true}}"#)
        let names = Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(names["date"], "Tue, 01 Dec 2026 08:00:00 GMT")
        XCTAssertEqual(names["x-privacyidea"], "3.14")
        let seen = try XCTUnwrap(server.requests.first)
        XCTAssertEqual(seen.requestLine, "POST /ttype/push HTTP/1.1")
        XCTAssertEqual(seen.header("User-Agent"), "authcore/test")
        XCTAssertEqual(seen.header("Accept"), "application/json")
        XCTAssertEqual(seen.header("Content-Type"), "application/x-www-form-urlencoded")
        XCTAssertEqual(String(decoding: seen.body, as: UTF8.self), "serial=PIPU1&pubkey=abc%2B")
    }

    func testARedirectIsReturnedAsItIsAndNotFollowed() async throws {
        let server = try server { seen in
            seen.requestLine.hasPrefix("GET /elsewhere")
                ? .init(status: 200, body: Data("followed".utf8))
                : .init(status: 302, headers: [("Location", "/elsewhere")], body: Data("moved".utf8))
        }
        let response = try await transport.send(request: request(server.url("/ttype/push?serial=S")))
        XCTAssertEqual(response.status, 302)
        XCTAssertEqual(response.headers.first { $0.name.lowercased() == "location" }?.value, "/elsewhere")
        XCTAssertEqual(server.requests.count, 1, "the redirect was not followed")
    }

    func testNothingIsCachedAndNoCookieIsKept() async throws {
        let server = try server { _ in
            .init(headers: [("Set-Cookie", "session=abc; Path=/"), ("Cache-Control", "public, max-age=3600"),
                            ("ETag", "\"v1\""), ("Last-Modified", "Tue, 01 Dec 2026 08:00:00 GMT")],
                  body: Data("same".utf8))
        }
        for _ in 0..<2 {
            let response = try await transport.send(request: request(server.url("/ttype/push?serial=S")))
            XCTAssertEqual(response.status, 200)
        }
        XCTAssertEqual(server.requests.count, 2, "the second GET reached the server: no cache")
        for seen in server.requests {
            XCTAssertNil(seen.header("Cookie"), seen.head)
            XCTAssertNil(seen.header("If-None-Match"), seen.head)
            XCTAssertNil(seen.header("If-Modified-Since"), seen.head)
        }
    }

    func testABodyOverTheCapIsTooLargeWhetherAnnouncedOrNot() async throws {
        let big = Data(repeating: UInt8(ascii: "x"), count: 64 * 1024)
        let announced = try server { _ in .init(body: big) }
        let unannounced = try server { _ in .init(body: big, contentLength: false) }
        for server in [announced, unannounced] {
            let error = await transportError { try await self.transport.send(request: self.request(server.url("/"), maxBytes: 1000)) }
            XCTAssertEqual(error, .TooLarge)
        }
        let exact = try await transport.send(request: request(announced.url("/"), maxBytes: Int64(big.count)))
        XCTAssertEqual(exact.body.count, big.count, "a body of exactly the cap is fine")
    }

    /// The deadline ends the exchange, not the session's idle timer: the server keeps sending a
    /// byte every 20 ms (the idle timer, 1 s, never fires), and without the deadline the body
    /// would end after a minute and arrive whole.
    func testTheRequestsTimeoutBoundsTheWholeExchange() async throws {
        let stop = TestGate()
        defer { stop.open() }
        let server = try server { _ in .init(body: Data("start".utf8), trickleUntil: stop) }
        let error = await transportError { try await self.transport.send(request: self.request(server.url("/"), timeoutMs: 300)) }
        XCTAssertEqual(error, .Timeout)
        XCTAssertEqual(server.trickled.ended, 0, "the time-out came while the server was still sending")
        // ... and the request was cancelled: the server's next bytes find the connection closed.
        for _ in 0..<3_000 where server.trickled.closedByClient == 0 { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertEqual(server.trickled.closedByClient, 1, "the connection was not closed")
    }

    func testCancellingTheAwaitingTaskCancelsTheRequest() async throws {
        // The server holds its answer until the test ends: only the cancellation can end the
        // request before that (its time-out, 10 s, is only the bound on a failing run).
        let arrived = TestGate()
        let hold = TestGate()
        defer { hold.open() }
        let server = try server { _ in
            arrived.open()
            return .init(body: Data("late".utf8), holdUntil: hold)
        }
        let transport = self.transport
        let pending = request(server.url("/"))
        let task = Task { try await transport.send(request: pending) }
        let reached = await arrived.wait(seconds: 60)
        XCTAssertTrue(reached, "the request reached the server")
        task.cancel()
        let result = await task.result
        guard case .failure(let error) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(error as? TransportError, .Other(reason: "the request was cancelled"))
    }

    func testARefusedConnectionIsAConnectionErrorWithoutTheQueryString() async throws {
        let url = "http://127.0.0.1:9/ttype/push?serial=PIPU1&signature=SIGNATURESIGNATURESIGNATURE"
        let error = await transportError { try await self.transport.send(request: self.request(url, timeoutMs: 5_000)) }
        guard case .Connection(let reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertFalse(reason.contains("SIGNATURE"), reason)
        XCTAssertFalse(reason.contains("serial=PIPU1"), reason)
    }

    func testTheRedactorRemovesTheQueryWhereverItAppears() {
        let redactor = Redactor(url: "https://pi.example/ttype/push?serial=PIPU1&signature=ABCDEF%2B0123456789")
        XCTAssertEqual(redactor.redactedURL, "https://pi.example/ttype/push")
        let text = "failed: https://pi.example/ttype/push?serial=PIPU1&signature=ABCDEF%2B0123456789 and serial=PIPU1&signature=ABCDEF+0123456789"
        let scrubbed = redactor.scrub(text)
        XCTAssertFalse(scrubbed.contains("ABCDEF"), scrubbed)
        XCTAssertTrue(scrubbed.contains("https://pi.example/ttype/push"), scrubbed)
    }

    #if canImport(FoundationNetworking)
    /// What `URLSessionTransport` says on Linux to a request with `verifyTls == false` over https.
    let linuxRefusesSslverify0 = """
        the server asked not to verify its certificate (sslverify=0), which URLSession on Linux \
        cannot do for one request (swift-corelibs-foundation has no server-trust challenge); give \
        the server a certificate this system trusts
        """

    /// Linux cannot accept an unverified certificate for one request: said before connecting.
    func testSslverify0OverHttpsIsRefusedOnLinuxWithoutConnecting() async throws {
        let server = try server { _ in .init() }
        let url = "https://127.0.0.1:\(server.port)/ttype/push?serial=S&signature=SIGNATURESIGNATURE"
        let error = await transportError { try await self.transport.send(request: self.request(url, verifyTls: false)) }
        guard case .Tls(let reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(reason, linuxRefusesSslverify0)
        XCTAssertEqual(server.connectionCount, 0)
        // Plain http with sslverify=0 has no certificate to check and works.
        let plain = try await transport.send(request: request(server.url("/"), verifyTls: false))
        XCTAssertEqual(plain.status, 200)
    }
    #endif

    /// Requests in flight hold no thread of the cooperative pool: while more requests than the
    /// pool has threads wait on servers that hold their answers, a task on the pool still runs.
    /// Each request goes to a server of its own (URLSession limits connections per host). Were
    /// `send` to block its caller's thread, the pool would fill with fewer requests started
    /// and the rest could never reach their servers: the wait for them fails after a minute.
    func testRequestsInFlightDoNotBlockTheCooperativePool() async throws {
        let count = max(12, 2 * ProcessInfo.processInfo.activeProcessorCount + 2)
        let arrived = TestTally(count)
        let hold = TestGate()
        defer { hold.open() }
        let servers = try (0..<count).map { _ in
            try server { _ in
                arrived.arrive()
                return .init(body: Data("slow".utf8), holdUntil: hold)
            }
        }
        let transport = self.transport
        let requests = servers.enumerated().map { request($1.url("/\($0)")) }
        let answered = TestTally(count)
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for r in requests {
                group.addTask {
                    let status = try await transport.send(request: r).status
                    answered.arrive()
                    return status
                }
            }
            let allInFlight = await arrived.all.wait(seconds: 60)
            XCTAssertTrue(allInFlight, "\(arrived.count) of \(count) requests reached their servers")
            let answeredWhileProbing = await Task.detached { answered.count }.value // needs a free pool thread
            XCTAssertEqual(answeredWhileProbing, 0, "every request was still in flight")
            hold.open()
            for try await status in group { XCTAssertEqual(status, 200) }
        }
        XCTAssertEqual(servers.map(\.requests.count), Array(repeating: 1, count: count))
    }
}
