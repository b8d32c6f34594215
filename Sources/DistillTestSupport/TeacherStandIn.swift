import DistillHTTP
import DistillOpenAI
import Foundation

// The teacher stand-in: a real HTTP/1.1 server on a loopback socket that speaks enough of the OpenAI protocol for
// tests, and can be told, per request, to misbehave. Harvest, judge and transport tests all drive it through this API.
// (Contract fixed; the server behind it lives in DistillHTTP.)

/// What the stand-in received.
public struct StandInRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// 1-based count of requests the server has seen, including this one.
    public var sequence: Int

    public init(method: String, path: String, headers: [(name: String, value: String)], body: Data, sequence: Int) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.sequence = sequence
    }

    /// The decoded JSON body, if it is a JSON object.
    public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }

    /// The text of the last message in a chat request (the usual thing to switch on).
    public var lastMessage: String? {
        guard let messages = json?["messages"] as? [[String: Any]] else { return nil }
        return messages.last?["content"] as? String
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// How the stand-in answers one request.
public indirect enum StandInReply: Sendable {
    /// A well-formed chat completion with one choice per string (n > 1 gives several), and usage.
    case chat([String], promptTokens: Int = 10, completionTokens: Int = 10, finishReason: String = "stop")
    /// Any status with a body and headers (errors, Retry-After, invalid JSON with status 200, …).
    case raw(status: Int, headers: [(name: String, value: String)] = [], body: Data)
    /// Waits, then answers.
    case delayed(Duration, StandInReply)
    /// Sends the status line, headers and part of the body, then resets the connection (RST).
    case resetMidBody(StandInReply)
    /// Sends the reply `bytes` at a time with `interval` between writes.
    case trickle(bytes: Int, interval: Duration, StandInReply)
    /// Closes the connection without answering.
    case hangUp

    public static func chat(_ text: String) -> StandInReply { .chat([text]) }

    /// A JSON error body the way OpenAI sends one.
    public static func error(status: Int, type: String, code: String? = nil, message: String = "error",
                             headers: [(name: String, value: String)] = []) -> StandInReply {
        let body = Data(OpenAIError(status: status, type: type, code: code, message: message).body)
        return .raw(status: status, headers: headers + [("Content-Type", "application/json")], body: body)
    }
}
