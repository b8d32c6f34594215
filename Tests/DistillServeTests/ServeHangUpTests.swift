import DistillData
import DistillHTTP
import DistillML
@testable import DistillServe
import DistillTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

/// A client that hangs up mid-request (plain or streaming) has its request cancelled in the engine: its queue place
/// is free while another request is still running, and /metrics counts it.
@Suite(.serialized) struct ServeHangUpTests {
    @Test(arguments: [false, true])
    func aClientThatHangsUpIsCancelledInTheEngine(stream: Bool) async throws {
        let h = try ServeHarness(slots: 1, queue: 1)
        let engine = try #require(h.server.models["tiny"]?.engine)
        let prompt = h.model.chatPrompt([(role: "user", content: "x")])
        // A blocker holds the one slot: its sink stops the engine thread on its first token, then on its second.
        let gates = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let seen = Mutex(0)
        let blocker = GenerationRequest(id: engine.newID(), prompt: prompt, maxTokens: 100, streams: true)
        #expect(engine.submit([blocker]) { event in
            guard case .token = event else { return }
            let n = seen.withLock { n in defer { n += 1 }; return n }
            if n < gates.count { _ = gates[n].wait(timeout: .now() + 30) }
        })
        try await eventually("the blocker's first token") { seen.withLock { $0 } == 1 }

        // The client's request waits behind the blocker; then the client closes the connection.
        let port = h.server.port
        let body = ServeHarness.chat(#""max_tokens":100,"temperature":0"# + (stream ? #","stream":true"# : ""))
        let socket = try RawSocket(port: port)
        socket.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
        try await eventually("the request reaches the engine") { engine.inFlight == 2 }
        shutdown(socket.fd, Int32(SHUT_RDWR))  // the FIN a closing client sends (deinit closes the descriptor)
        try await eventually("the hang-up is noticed") { h.server.metrics.render(engines: []).contains("distill_cancelled_requests_total 1") }

        // The engine goes on to the blocker's second token, and by then the client's request has left the queue
        // without ever running: without the cancel it would still hold its place behind the blocker.
        gates[0].signal()
        try await eventually("the blocker's second token") { seen.withLock { $0 } == 2 }
        #expect(engine.inFlight == 1)
        #expect(engine.counts.queued == 0)
        gates[1].signal()
        try await eventually("the blocker finishes") { engine.inFlight == 0 }
        // And the server goes on serving.
        #expect(try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":2"#)).status == 200)
    }
}
