import DistillData

/// The server side of the chat-completion reply: whole responses, streamed chunks and usage, as OpenAI shapes them.
extension ChatResponse {
    /// `{"id", "object": "chat.completion", "created", "model", "choices", "usage"}`.
    public func serverJSON(created: Int) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("id", .string(id)), ("object", .string("chat.completion")), ("created", .int(created)),
            ("model", .string(model)),
            ("choices", .array(choices.map { c in
                .obj([("index", .int(c.index)),
                      ("message", .obj([("role", .string(c.message.role)), ("content", .string(c.message.content))])),
                      ("logprobs", c.logprobs.map { .obj([("content", .array($0.map(\.json)))]) } ?? .null),
                      ("finish_reason", c.finishReason.map(JSONValue.string) ?? .null)])
            })),
        ]
        if let usage { pairs.append(("usage", usage.json)) }
        return .obj(pairs)
    }
}

extension ChatUsage {
    public var json: JSONValue {
        .obj([("prompt_tokens", .int(promptTokens)), ("completion_tokens", .int(completionTokens)),
              ("total_tokens", .int(totalTokens))])
    }
}

extension TokenLogprob {
    /// `{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}`.
    public var json: JSONValue {
        .obj([("token", .string(token)), ("logprob", .double(logprob)),
              ("bytes", bytes.map { .array($0.map { .int(Int($0)) }) } ?? .null),
              ("top_logprobs", .array(topLogprobs.map {
                  .obj([("token", .string($0.token)), ("logprob", .double($0.logprob)),
                        ("bytes", $0.bytes.map { .array($0.map { .int(Int($0)) }) } ?? .null)])
              }))])
    }
}

/// One `chat.completion.chunk` of a streamed reply.
public struct ChatChunk: Sendable {
    public var id: String
    public var model: String
    public var created: Int
    public var index: Int
    /// Set on a choice's first chunk.
    public var role: String?
    public var content: String?
    public var logprobs: [TokenLogprob]?
    public var finishReason: String?

    public init(id: String, model: String, created: Int, index: Int, role: String? = nil, content: String? = nil,
                logprobs: [TokenLogprob]? = nil, finishReason: String? = nil) {
        self.id = id
        self.model = model
        self.created = created
        self.index = index
        self.role = role
        self.content = content
        self.logprobs = logprobs
        self.finishReason = finishReason
    }

    public var json: JSONValue {
        var delta: [(String, JSONValue)] = []
        if let role { delta.append(("role", .string(role))) }
        if let content { delta.append(("content", .string(content))) }
        return .obj([("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)),
                     ("model", .string(model)),
                     ("choices", .array([.obj([
                         ("index", .int(index)), ("delta", .obj(delta)),
                         ("logprobs", logprobs.map { .obj([("content", .array($0.map(\.json)))]) } ?? .null),
                         ("finish_reason", finishReason.map(JSONValue.string) ?? .null)])]))])
    }

    /// The last chunk of a stream with `include_usage`: no choices, the whole request's usage.
    public static func usage(id: String, model: String, created: Int, _ usage: ChatUsage) -> JSONValue {
        .obj([("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .int(created)),
              ("model", .string(model)), ("choices", .array([])), ("usage", usage.json)])
    }
}

/// Server-sent events framing: `data: <json>\n\n`, ended by `data: [DONE]\n\n`.
public enum ServerSentEvents {
    public static func event(_ json: JSONValue) -> [UInt8] {
        Array("data: ".utf8) + Array(json.compactData()) + [10, 10]
    }

    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)
}

/// `GET /v1/models`.
public enum ModelList {
    public static func json(_ models: [(id: String, ownedBy: String, created: Int)]) -> JSONValue {
        .obj([("object", .string("list")),
              ("data", .array(models.map {
                  .obj([("id", .string($0.id)), ("object", .string("model")), ("created", .int($0.created)),
                        ("owned_by", .string($0.ownedBy))])
              }))])
    }
}
