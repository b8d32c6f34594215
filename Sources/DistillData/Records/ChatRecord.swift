import Foundation

/// One turn of a conversation: `{"role","content"}` with role `system`, `user` or `assistant` (others kept as is).
public struct ChatTurn: Codable, Sendable, Hashable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ s: String) -> ChatTurn { ChatTurn(role: "system", content: s) }
    public static func user(_ s: String) -> ChatTurn { ChatTurn(role: "user", content: s) }
    public static func assistant(_ s: String) -> ChatTurn { ChatTurn(role: "assistant", content: s) }
}

/// A conversation: `{"messages":[{"role","content"},…]}` (OpenAI chat / fine-tuning format).
///
/// Also reads ShareGPT's `{"conversations":[{"from","value"},…]}`, mapping `human`→`user`, `gpt`→`assistant`,
/// `system`→`system` (and `user`/`assistant` as themselves). Always writes `messages`; use `shareGPT` to write the
/// other shape.
public struct ChatRecord: DatasetRecord, Hashable {
    public var messages: [ChatTurn]

    public init(messages: [ChatTurn]) { self.messages = messages }

    enum CodingKeys: String, CodingKey { case messages, conversations }

    /// ShareGPT's turn shape.
    public struct ShareGPTTurn: Codable, Sendable, Hashable {
        public var from: String
        public var value: String
    }

    /// The same conversation in ShareGPT's shape, for writing; `id` (ShareGPT's own optional key) is written when set.
    public struct ShareGPT: Codable, Sendable, Hashable {
        public var conversations: [ShareGPTTurn]
        public var id: String?
    }

    static let fromShareGPT = ["human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                               "system": "system"]
    static let toShareGPT = ["user": "human", "assistant": "gpt", "system": "system"]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.messages) {
            messages = try c.decode([ChatTurn].self, forKey: .messages)
            return
        }
        guard c.contains(.conversations) else {
            throw DecodingError.keyNotFound(CodingKeys.messages, .init(codingPath: c.codingPath,
                debugDescription: "expected 'messages' (OpenAI chat) or 'conversations' (ShareGPT)"))
        }
        let turns = try c.decode([ShareGPTTurn].self, forKey: .conversations)
        messages = try turns.enumerated().map { i, t in
            guard let role = Self.fromShareGPT[t.from] else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: c.codingPath + [CodingKeys.conversations, IndexKey(i), ShareGPTKey.from],
                    debugDescription: "unknown speaker '\(t.from)' (expected human, gpt or system)"))
            }
            return ChatTurn(role: role, content: t.value)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(messages, forKey: .messages)
    }

    /// This conversation as ShareGPT `conversations` (roles other than user/assistant/system kept by name).
    public var shareGPT: ShareGPT {
        ShareGPT(conversations: messages.map { ShareGPTTurn(from: Self.toShareGPT[$0.role] ?? $0.role, value: $0.content) })
    }

    public static let kindDescription = "chat item"
    public static let expectedShape = #"{"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}"#

    public var textFields: [(field: String, text: String)] {
        messages.enumerated().map { ("messages[\($0.offset)].content", $0.element.content) }
    }
}

/// A coding key for an array position, used to point errors at `conversations[3].from`.
struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

private enum ShareGPTKey: String, CodingKey { case from }
