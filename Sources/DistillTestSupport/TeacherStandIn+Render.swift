import DistillData
import DistillHTTP
import DistillOpenAI
import Foundation

extension StandInReply {
    /// Turns a scripted reply into what the server sends, adding `extraHeaders` (the rate-limit headers).
    static func render(_ reply: StandInReply, for request: StandInRequest,
                       extraHeaders: [(name: String, value: String)]) async -> HTTPServerResponse {
        switch reply {
        case .delayed(let wait, let next):
            try? await Task.sleep(for: wait)
            return await render(next, for: request, extraHeaders: extraHeaders)
        case .hangUp:
            return .hangUp
        case .resetMidBody(let inner):
            let (status, headers, body) = whole(inner, for: request)
            let cut = max(1, body.count / 2)
            return HTTPServerResponse(
                status: status, headers: headers + extraHeaders + [("Content-Length", String(body.count))],
                body: .stream { writer in
                    writer.write(Array(body.prefix(cut)))
                    // Let the first half reach the client before the RST, so the failure is truly mid-body.
                    try? await Task.sleep(for: .milliseconds(20))
                    writer.reset()
                })
        case .trickle(let step, let interval, let inner):
            let (status, headers, body) = whole(inner, for: request)
            let n = max(1, step)
            return HTTPServerResponse(
                status: status, headers: headers + extraHeaders + [("Content-Length", String(body.count))],
                body: .stream { writer in
                    var i = 0
                    while i < body.count {
                        writer.write(Array(body[i..<min(body.count, i + n)]))
                        i += n
                        if i < body.count { try? await Task.sleep(for: interval) }
                    }
                })
        case .chat, .raw:
            let (status, headers, body) = whole(reply, for: request)
            return HTTPServerResponse(status: status, headers: headers + extraHeaders, body: .bytes(body))
        }
    }

    /// Status, headers and body bytes of a reply that has them (timing wrappers are ignored inside a trickle/reset).
    private static func whole(_ reply: StandInReply, for request: StandInRequest)
        -> (Int, [(name: String, value: String)], [UInt8]) {
        switch reply {
        case .chat(let texts, let promptTokens, let completionTokens, let finishReason):
            let model = (try? JSONValue.parse(request.body))?["model"]?.stringValue ?? "stand-in"
            let response = ChatResponse(
                id: "chatcmpl-standin-\(request.sequence)", model: model,
                choices: texts.enumerated().map { i, text in
                    ChatChoice(index: i, message: ChatMessage(role: "assistant", content: text), finishReason: finishReason)
                },
                usage: ChatUsage(promptTokens: promptTokens, completionTokens: completionTokens))
            return (200, [("Content-Type", "application/json")], Array(response.serverJSON(created: 1_700_000_000).compactData()))
        case .raw(let status, let headers, let body):
            return (status, headers, Array(body))
        case .delayed(_, let inner), .resetMidBody(let inner), .trickle(_, _, let inner):
            return whole(inner, for: request)
        case .hangUp:
            return (502, [], [])
        }
    }
}
