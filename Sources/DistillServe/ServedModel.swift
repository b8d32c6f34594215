import DistillML
import Foundation

/// One model the server answers for: its name on the wire, its engine loop, and its vocabulary trie for
/// constrained decoding (built once, shared by every request).
public final class ServedModel: Sendable {
    public let name: String
    public let engine: ServeEngine
    public let trie: VocabularyTrie
    /// `owned_by` in /v1/models: "distill" tells a client (harvest, judge) it may ask for json_schema.
    public let ownedBy: String
    public let created: Int
    /// The answer prefix the model was trained with (`prompt-format.json`), put before the last user message of a chat.
    public let promptFormat: PromptFormat?

    public init(name: String, model: LanguageModel, slots: Int, queue: Int, context: Int, promptFormat: PromptFormat? = nil) {
        self.name = name
        self.promptFormat = promptFormat
        engine = ServeEngine(name: name, model: model, slots: slots, queue: queue, context: context)
        trie = VocabularyTrie(tokenizer: model.tokenizer, vocabularySize: model.model.config.vocabSize)
        ownedBy = "distill"
        created = Int(Date().timeIntervalSince1970)
    }

    public var tokenizer: Tokenizer { engine.model.tokenizer }
}

/// Limits and access rules of a server.
public struct ServeOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body; bigger ones get 413.
    public var maxBodyBytes = 4 << 20
    /// Largest `max_tokens` a request may ask for, and most choices (`n`).
    public var maxTokensLimit = 4096
    public var maxN = 16
    /// When set, every route but /health needs `Authorization: Bearer <key>` (401 otherwise).
    public var apiKey: String?

    public init() {}
}
