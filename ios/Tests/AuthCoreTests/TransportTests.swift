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

    var requests: [Seen] { lock.lock(); defer { lock.unlock() }; return seen }
    var connectionCount: Int { lock.lock(); defer { lock.unlock() }; return connections }

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
        var text = "HTTP/1.1 \(answer.status) X\r\nConnection: close\r\n"
        for (name, value) in answer.headers { text += "\(name): \(value)\r\n" }
        if answer.contentLength { text += "Content-Length: \(answer.body.count)\r\n" }
        text += "\r\n"
        var out = Data(text.utf8)
        out.append(answer.body)
        out.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                #if os(Linux)
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
                if n <= 0 { return }
                offset += n
            }
        }
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

    func testTheRequestsTimeoutBoundsTheWholeExchange() async throws {
        let server = try server { _ in .init(body: Data("late".utf8), delayMs: 3_000) }
        let start = Date()
        let error = await transportError { try await self.transport.send(request: self.request(server.url("/"), timeoutMs: 300)) }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(error, .Timeout)
        XCTAssertLessThan(elapsed, 1.5, "gave up after \(elapsed) s")
    }

    func testCancellingTheAwaitingTaskCancelsTheRequest() async throws {
        let server = try server { _ in .init(body: Data("late".utf8), delayMs: 5_000) }
        let transport = self.transport
        let url = server.url("/")
        let pending = request(url)
        let start = Date()
        let task = Task { try await transport.send(request: pending) }
        try await Task.sleep(nanoseconds: 200_000_000)
        task.cancel()
        let result = await task.result
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "cancelled at once")
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
    /// Linux cannot accept an unverified certificate for one request: said before connecting.
    func testSslverify0OverHttpsIsRefusedOnLinuxWithoutConnecting() async throws {
        let server = try server { _ in .init() }
        let url = "https://127.0.0.1:\(server.port)/ttype/push?serial=S&signature=SIGNATURESIGNATURE"
        let error = await transportError { try await self.transport.send(request: self.request(url, verifyTls: false)) }
        guard case .Tls(let reason)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(reason.contains("Linux"), reason)
        XCTAssertEqual(server.connectionCount, 0)
        // Plain http with sslverify=0 has no certificate to check and works.
        let plain = try await transport.send(request: request(server.url("/"), verifyTls: false))
        XCTAssertEqual(plain.status, 200)
    }
    #endif

    /// Requests in flight hold no thread of the cooperative pool: with several waiting on a slow
    /// server, other work on the pool still runs at once.
    func testRequestsInFlightDoNotBlockTheCooperativePool() async throws {
        let server = try server { _ in .init(body: Data("slow".utf8), delayMs: 1_500) }
        let transport = self.transport
        let urls = (0..<12).map { server.url("/\($0)") }
        let requests = urls.map { request($0) }
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for r in requests { group.addTask { try await transport.send(request: r).status } }
            try await Task.sleep(nanoseconds: 300_000_000)
            var probes: [Double] = []
            for _ in 0..<8 {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = await Task.detached { 1 + 1 }.value
                probes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
            }
            XCTAssertLessThan(probes.max() ?? 0, 200, "pool work waited \(probes) ms")
            for try await status in group { XCTAssertEqual(status, 200) }
        }
        XCTAssertEqual(server.requests.count, 12)
    }
}
