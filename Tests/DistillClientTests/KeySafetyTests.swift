import DistillHTTP
@testable import DistillClient
import DistillTestSupport
import Foundation
import Testing

/// The library side of key safety: errors (printed and dumped) and events never hold the key, even when the server
/// echoes it in bodies and headers. (The CLI side, stdout/stderr/files, is `AskCommandTests`.)
@Suite struct KeySafetyTests {
    static let key = "sk-lib-SECRETKEY-0123456789"

    @Test func errorsAndEventsAreScrubbed() async throws {
        let standIn = try TeacherStandIn { request in
            let auth = request.header("authorization") ?? ""
            switch request.lastMessage ?? "" {
            case "401": return .error(status: 401, type: "auth \(auth)", code: auth, message: "bad key \(auth)",
                                      headers: [("x-echo", auth)])
            case "503": return .error(status: 503, type: "overloaded", message: "busy \(auth)", headers: [("x-echo", auth)])
            case "json": return .raw(status: 200, headers: [("x-echo", auth)], body: Data("garbage \(auth)".utf8))
            default: return .resetMidBody(.chat(auth))
            }
        }
        defer { standIn.stop() }
        let events = EventLog()
        let openAI = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "m", keyEnv: "K"), http: try HTTPClient(),
                                  environment: ["K": Self.key])
        let client = TeacherClient(openAI: openAI, options: .init(retry: RetryPolicy(maxAttempts: 2, random: { 0 })),
                                   clock: VirtualClock(), onEvent: events.record)
        var captured = ""
        for prompt in ["401", "503", "json", "reset"] {
            do {
                _ = try await client.complete(ChatRequest(model: "", messages: [.user(prompt)]))
                Issue.record("\(prompt) should fail")
            } catch {
                captured += "\(error)\n\(String(reflecting: error))\n"
            }
        }
        captured += events.all.map { String(reflecting: $0) }.joined(separator: "\n")
        #expect(standIn.requests.allSatisfy { $0.header("authorization") == "Bearer \(Self.key)" })
        #expect(captured.contains("[redacted]"))
        #expect(!captured.contains("SECRETKEY"))
    }
}
