import DistillData
import DistillHTTP
import DistillOpenAI
@testable import DistillServe
import Foundation
import Glibc
import Testing

/// Malformed requests and malformed HTTP for a bounded time: the server never crashes, every reply is a well-formed
/// HTTP response, every error body an OpenAI error object, and it keeps serving.
@Suite(.serialized) struct ServeFuzzTests {
    static let valid = [
        ServeHarness.chat(#""max_tokens":2,"temperature":0"#),
        ServeHarness.chat(#""max_tokens":3,"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}"#),
        #"{"model":"tiny","prompt":"ab","max_tokens":1,"echo":true,"logprobs":1}"#,
    ]

    @Test func mutatedBodiesGetWellFormedReplies() async throws {
        let h = try ServeHarness()
        var rng = SplitMix64(seed: 17)
        let deadline = ContinuousClock.now + .seconds(2)
        var sent = 0
        // Two seconds, and at least a few requests even when the machine is too busy to send many in that time.
        while ContinuousClock.now < deadline || sent < 3 {
            var body = Array(Self.valid[Int(rng.next() % UInt64(Self.valid.count))].utf8)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(body.count))
                switch rng.next() % 4 {
                case 0: body[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: body.remove(at: i)
                case 2:
                    let pieces = Array(#"{}[]",:-0e"#.utf8)
                    body.insert(pieces[Int(rng.next() % UInt64(pieces.count))], at: i)
                default: body = Array(body.prefix(i))
                }
                if body.isEmpty { body = [0x7B] }
            }
            let path = sent % 3 == 2 ? "/v1/completions" : "/v1/chat/completions"
            let r = try await h.client.send(HTTPRequest(method: "POST", url: h.base + path, headers: [("Content-Type", "application/json")], body: body))
            #expect([200, 400, 404].contains(r.status), "\(String(decoding: body, as: UTF8.self)) → \(r.status) \(r.text)")
            if r.status != 200 {
                #expect(r.json?["error"]?["message"]?.stringValue != nil, "\(r.text)")
            } else {
                #expect(r.json?["choices"] != nil)
            }
            sent += 1
        }
        #expect(sent >= 3)
        #expect(try await h.get("/health").status == 200)
    }

    @Test func malformedHTTPClosesThatConnectionOnly() async throws {
        let h = try ServeHarness()
        let port = h.server.port
        let garbage = ["GARBAGE\r\n\r\n", "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                       "GET / HTTP/9\r\n\u{0}\u{1}\r\n\r\n", "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                       String(repeating: "A", count: 70_000), "\r\n\r\n"]
        var rng = SplitMix64(seed: 3)
        let deadline = ContinuousClock.now + .seconds(1)
        var i = 0
        while ContinuousClock.now < deadline {
            var payload = Array(garbage[i % garbage.count].utf8)
            if i >= garbage.count { payload = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } + [13, 10, 13, 10] }
            let reply = try await Self.exchange(port: port, payload)
            // Either the server closed without a word (bytes it could not frame) or it answered in HTTP.
            #expect(reply.isEmpty || reply.hasPrefix("HTTP/1.1 4") || reply.hasPrefix("HTTP/1.1 2"), "\(reply.prefix(60))")
            i += 1
        }
        #expect(try await h.get("/health").status == 200)
        #expect(try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":2"#)).status == 200)
    }

    /// Sends `payload` on a fresh connection, half-closes, and reads what comes back (off the cooperative pool).
    static func exchange(port: Int, _ payload: [UInt8]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = in_port_t(UInt16(port).bigEndian)
                inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
                var tv = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                let ok = withUnsafePointer(to: &addr) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard ok == 0 else { continuation.resume(throwing: POSIXError(.ECONNREFUSED)); return }
                _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                shutdown(fd, Int32(SHUT_WR))
                var all: [UInt8] = []
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    all += buf[0..<n]
                }
                continuation.resume(returning: String(decoding: all, as: UTF8.self))
            }.start()
        }
    }
}
