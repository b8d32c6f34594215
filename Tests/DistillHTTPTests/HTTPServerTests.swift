import DistillHTTP
import DistillTestSupport
import Foundation
import Testing

/// The server over real loopback sockets, driven byte by byte.
@Suite struct HTTPServerTests {
    /// Echoes method, path and body so a test can see exactly what the parser produced.
    static func echo() throws -> HTTPServer {
        try HTTPServer(host: "127.0.0.1", port: 0) { request in
            let text = "\(request.method) \(request.path) [\(String(decoding: request.body, as: UTF8.self))]"
            return HTTPServerResponse(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], text: text)
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        let server = try Self.echo()
        defer { server.stop() }
        let port = server.port
        try await offPool {
            let socket = try RawSocket(port: port)
            socket.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n蒸馏🙂!!")
            let first = socket.readResponse()
            #expect(first.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(first.contains("Connection: keep-alive"))
            #expect(first.hasSuffix("POST /a [蒸馏🙂!!]"))
            socket.send("GET /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(socket.readResponse().hasSuffix("GET /b []"))
        }
    }

    @Test func chunkedRequestBodyIsReassembled() async throws {
        let server = try Self.echo()
        defer { server.stop() }
        let port = server.port
        try await offPool {
            let socket = try RawSocket(port: port)
            socket.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            socket.send("7;ext=1\r\n, world\r\n0\r\nX-Trailer: y\r\n\r\n")
            #expect(socket.readResponse().hasSuffix("POST /c [hello, world]"))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try Self.echo()
        defer { server.stop() }
        let port = server.port
        try await offPool {
            let socket = try RawSocket(port: port)
            socket.send("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nConnection: close\r\n\r\n")
            let both = socket.read { _ in false }  // until the server closes after /2
            let one = both.range(of: "GET /1 []")
            let two = both.range(of: "GET /2 []")
            #expect(one != nil && two != nil)
            if let one, let two { #expect(one.lowerBound < two.lowerBound) }
            #expect(both.contains("Connection: close"))
        }
    }

    @Test func expectContinueGetsInterimResponse() async throws {
        let server = try Self.echo()
        defer { server.stop() }
        let port = server.port
        try await offPool {
            let socket = try RawSocket(port: port)
            socket.send("PUT /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            #expect(socket.read { $0.contains("\r\n\r\n") }.hasPrefix("HTTP/1.1 100 Continue"))
            socket.send("abc")
            #expect(socket.readResponse().contains("PUT /e [abc]"))
        }
    }

    @Test func garbageGetsA400AndClose() async throws {
        let server = try Self.echo()
        defer { server.stop() }
        let port = server.port
        try await offPool {
            let socket = try RawSocket(port: port)
            socket.send("NOT HTTP AT ALL\r\n\r\n")
            let reply = socket.read { _ in false }
            #expect(reply.hasPrefix("HTTP/1.1 400 "))
            #expect(reply.contains("Connection: close"))
        }
    }

    @Test func streamedBodyIsChunkedWithoutContentLength() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            HTTPServerResponse(status: 200, body: .stream { writer in
                writer.write("data: 一\n\n")
                try? await Task.sleep(for: .milliseconds(5))
                writer.write("data: [DONE]\n\n")
            })
        }
        defer { server.stop() }
        let port = server.port
        try await offPool {
            let socket = try RawSocket(port: port)
            socket.send("GET /s HTTP/1.1\r\n\r\n")
            let reply = socket.read { $0.hasSuffix("0\r\n\r\n") }
            #expect(reply.contains("Transfer-Encoding: chunked"))
            #expect(reply.contains("\r\nb\r\ndata: 一\n\n\r\n"))  // 11 bytes: "一" is 3 in UTF-8
            #expect(reply.contains("\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"))
        }
    }

    @Test func manyConcurrentConnectionsAllGetAnswers() async throws {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            try? await Task.sleep(for: .milliseconds(200))  // all 200 are in the handler at once
            return HTTPServerResponse(status: 200, text: request.path)
        }
        defer { server.stop() }
        let port = server.port
        let clock = ContinuousClock()
        let start = clock.now
        let answers = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<200 {
                group.addTask {
                    (try? await offPool {
                        let socket = try RawSocket(port: port)
                        socket.send("GET /\(i) HTTP/1.1\r\n\r\n")
                        return socket.readResponse().hasSuffix("/\(i)")
                    }) ?? false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(answers == 200)
        // One at a time would take 200 × 200 ms = 40 s; the bound is loose because the suite shares two cores.
        #expect(clock.now - start < .seconds(30))
    }
}
