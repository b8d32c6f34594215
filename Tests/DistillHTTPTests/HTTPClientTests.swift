import DistillHTTP
import DistillTestSupport
import Foundation
import Glibc
import Testing

/// The libcurl client against the real server over loopback: round trips, cancellation, every timeout, resets.
@Suite struct HTTPClientTests {
    static func server(_ handler: @escaping HTTPServer.Handler) throws -> HTTPServer {
        try HTTPServer(host: "127.0.0.1", port: 0, handler: handler)
    }

    @Test func postRoundTripCarriesHeadersBodyAndUTF8() async throws {
        let server = try Self.server { request in
            let reply = "\(request.method) \(request.path) \(request.header("X-Test") ?? "-") "
                + String(decoding: request.body, as: UTF8.self)
            return HTTPServerResponse(status: 201, headers: [("X-Reply", "是")], text: reply)
        }
        defer { server.stop() }
        let client = try HTTPClient()
        let response = try await client.send(HTTPRequest(
            method: "POST", url: "http://127.0.0.1:\(server.port)/v1/x?y=1", headers: [("X-Test", "t1")],
            body: Array("知识蒸馏 🧪".utf8)))
        #expect(response.status == 201)
        #expect(response.header("x-reply") == "是")
        #expect(String(decoding: response.body, as: UTF8.self) == "POST /v1/x t1 知识蒸馏 🧪")
        #expect(response.httpVersion == 1)
    }

    @Test func errorStatusIsAResponseNotAnError() async throws {
        let server = try Self.server { _ in HTTPServerResponse(status: 503, text: "busy") }
        defer { server.stop() }
        let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/"))
        #expect(response.status == 503)
        #expect(String(decoding: response.body, as: UTF8.self) == "busy")
    }

    @Test func manyConcurrentRequestsShareTheDriver() async throws {
        let server = try Self.server { request in HTTPServerResponse(status: 200, text: request.path) }
        defer { server.stop() }
        let client = try HTTPClient()
        let port = server.port
        let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<500 {
                group.addTask {
                    let r = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/\(i)"))
                    return String(decoding: r.body, as: UTF8.self) == "/\(i)"
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(ok == 500)
    }

    @Test func gzipBodyIsDecoded() async throws {
        // python3 -c "import gzip,base64; print(base64.b64encode(gzip.compress('{\"answer\":\"蒸馏 works 🙂\"}'.encode(), mtime=0)).decode())"
        let gz = Data(base64Encoded: "H4sIAAAAAAACA6tWSswrLk8tUrJSejFpx8tl/Qrl+UXZxQof5s9sUqoFAMlN43weAAAA") ?? Data()
        let server = try Self.server { request in
            let accepts = request.header("accept-encoding")?.contains("gzip") == true
            return HTTPServerResponse(status: accepts ? 200 : 406, headers: [("Content-Encoding", "gzip")], body: .bytes(Array(gz)))
        }
        defer { server.stop() }
        let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/"))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"answer":"蒸馏 works 🙂"}"#)
    }

    @Test func cancellationMidTransferAbortsPromptly() async throws {
        let server = try Self.server { _ in
            try? await Task.sleep(for: .seconds(60))
            return HTTPServerResponse(status: 200, text: "late")
        }
        defer { server.stop() }
        let client = try HTTPClient()
        let url = "http://127.0.0.1:\(server.port)/slow"
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await client.send(HTTPRequest(url: url)) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.result
        #expect(throws: HTTPClientError.cancelled) { try result.get() }
        #expect(clock.now - start < .seconds(30))  // far below the server's 60 s (bounds loose: the suite shares 2 cores)
    }

    @Test func cancelBeforeRegisterNeverSendsTheRequest() async throws {
        let server = try Self.server { _ in HTTPServerResponse(status: 200, text: "ok") }
        defer { server.stop() }
        let client = try HTTPClient()
        let url = "http://127.0.0.1:\(server.port)/"
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }  // cancelled before send() is even called
            return try await client.send(HTTPRequest(url: url))
        }
        let result = await task.result
        #expect(throws: HTTPClientError.cancelled) { try result.get() }
    }

    @Test func totalTimeoutFires() async throws {
        let server = try Self.server { _ in
            try? await Task.sleep(for: .seconds(5))
            return HTTPServerResponse(status: 200, text: "late")
        }
        defer { server.stop() }
        let request = HTTPRequest(url: "http://127.0.0.1:\(server.port)/",
                                  timeouts: HTTPTimeouts(connect: .seconds(2), total: .milliseconds(400), idle: nil))
        await #expect(throws: HTTPClientError.totalTimeout) { try await HTTPClient().send(request) }
    }

    @Test func idleTimeoutFiresWhenTheBodyStalls() async throws {
        let server = try Self.server { _ in
            HTTPServerResponse(status: 200, headers: [("Content-Length", "100")], body: .stream { writer in
                writer.write("first bytes")
                try? await Task.sleep(for: .seconds(40))
            })
        }
        defer { server.stop() }
        let request = HTTPRequest(url: "http://127.0.0.1:\(server.port)/",
                                  timeouts: HTTPTimeouts(connect: .seconds(2), total: .seconds(30), idle: .milliseconds(500)))
        let clock = ContinuousClock()
        let start = clock.now
        // Without the idle limit this would end at the 30 s total timeout, a different error.
        await #expect(throws: HTTPClientError.idleTimeout) { try await HTTPClient().send(request) }
        #expect(clock.now - start < .seconds(25))
    }

    @Test func connectTimeoutFiresAgainstAFullAcceptQueue() async throws {
        // A listener that never accepts, with its backlog filled: the kernel drops further SYNs, so connect hangs.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(listener, $0, len)
                _ = getsockname(listener, $0, &len)
            }
        }
        listen(listener, 0)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        var fillers: [RawSocket] = []
        for _ in 0..<4 { if let s = try? RawSocket(port: port, connectTimeoutSeconds: 0) { fillers.append(s) } }
        defer { fillers.removeAll() }
        let request = HTTPRequest(url: "http://127.0.0.1:\(port)/",
                                  timeouts: HTTPTimeouts(connect: .milliseconds(500), total: .seconds(10), idle: nil))
        await #expect(throws: HTTPClientError.connectTimeout) { try await HTTPClient().send(request) }
    }

    @Test func refusedConnectionIsAConnectionFailure() async throws {
        let server = try Self.server { _ in HTTPServerResponse(status: 200) }
        let port = server.port
        server.stop()  // nothing listens there now
        await #expect(throws: HTTPClientError.connectionFailed) {
            try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        }
    }

    @Test func resetMidBodyIsAConnectionLoss() async throws {
        let server = try Self.server { _ in
            HTTPServerResponse(status: 200, headers: [("Content-Length", "1000")], body: .stream { writer in
                writer.write(Array(repeating: UInt8(ascii: "x"), count: 300))
                try? await Task.sleep(for: .milliseconds(20))
                writer.reset()
            })
        }
        defer { server.stop() }
        await #expect(throws: HTTPClientError.connectionLost) {
            try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/"))
        }
    }

    @Test func hangUpWithoutAnswerIsAConnectionLoss() async throws {
        let server = try Self.server { _ in .hangUp }
        defer { server.stop() }
        await #expect(throws: HTTPClientError.connectionLost) {
            try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/"))
        }
    }

    @Test func trickledBodyArrivesWhole() async throws {
        let text = "慢慢来, one byte group at a time 🐢"
        let server = try Self.server { _ in
            let bytes = Array(text.utf8)
            return HTTPServerResponse(status: 200, headers: [("Content-Length", String(bytes.count))], body: .stream { w in
                for i in stride(from: 0, to: bytes.count, by: 4) {
                    w.write(Array(bytes[i..<min(bytes.count, i + 4)]))
                    try? await Task.sleep(for: .milliseconds(5))
                }
            })
        }
        defer { server.stop() }
        let response = try await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(server.port)/"))
        #expect(String(decoding: response.body, as: UTF8.self) == text)
    }

    @Test func invalidURLIsRejected() async throws {
        await #expect(throws: HTTPClientError.invalidURL) {
            try await HTTPClient().send(HTTPRequest(url: "notascheme://x"))
        }
    }
}
