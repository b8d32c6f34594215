import DistillData
import Foundation

/// The OpenAI chat-completions wire types that every teacher, judge and `distill serve` speak.
/// Field names map to the wire format in one place (the CodingKeys below).

/// A chat message on the wire is the same `{"role","content"}` turn the datasets hold.
public typealias ChatMessage = ChatTurn

/// `response_format`: plain text, any JSON object, or JSON matching a schema (given as raw JSON text).
public enum ResponseFormat: Sendable, Equatable {
    case text
    case jsonObject
    case jsonSchema(name: String, schemaJSON: String, strict: Bool)
}

public struct ChatRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    public var n: Int?
    public var stop: [String]?
    public var seed: Int?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var responseFormat: ResponseFormat?
    /// Server-side extras (llama.cpp and vLLM accept them too): sample among the k most likely tokens, drop tokens
    /// below min_p × the most likely one.
    public var topK: Int?
    public var minP: Double?
    /// Answer as server-sent events; `includeUsage` adds a final chunk with the usage (`stream_options`).
    public var stream: Bool?
    public var includeUsage: Bool?

    public init(model: String, messages: [ChatMessage], temperature: Double? = nil, topP: Double? = nil,
                maxTokens: Int? = nil, n: Int? = nil, stop: [String]? = nil, seed: Int? = nil,
                logprobs: Bool? = nil, topLogprobs: Int? = nil, responseFormat: ResponseFormat? = nil,
                topK: Int? = nil, minP: Double? = nil, stream: Bool? = nil, includeUsage: Bool? = nil) {
        self.topK = topK
        self.minP = minP
        self.stream = stream
        self.includeUsage = includeUsage
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.n = n
        self.stop = stop
        self.seed = seed
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.responseFormat = responseFormat
    }
}

/// One sampled token with its log-probability and the top-k alternatives.
public struct TokenLogprob: Codable, Sendable, Equatable {
    public struct Alternative: Codable, Sendable, Equatable {
        public var token: String
        public var bytes: [UInt8]?
        public var logprob: Double
        public init(token: String, bytes: [UInt8]?, logprob: Double) {
            self.token = token
            self.bytes = bytes
            self.logprob = logprob
        }
    }
    public var token: String
    public var bytes: [UInt8]?
    public var logprob: Double
    public var topLogprobs: [Alternative]

    public init(token: String, bytes: [UInt8]?, logprob: Double, topLogprobs: [Alternative]) {
        self.token = token
        self.bytes = bytes
        self.logprob = logprob
        self.topLogprobs = topLogprobs
    }

    /// Tolerates servers that leave out `bytes` or `top_logprobs` (vLLM, llama.cpp without top-k).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        token = try c.decode(String.self, forKey: .token)
        bytes = try c.decodeIfPresent([UInt8].self, forKey: .bytes)
        logprob = try c.decode(Double.self, forKey: .logprob)
        topLogprobs = try c.decodeIfPresent([Alternative].self, forKey: .topLogprobs) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case token, bytes, logprob
        case topLogprobs = "top_logprobs"
    }
}

public struct ChatUsage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }
}

public struct ChatChoice: Sendable, Equatable {
    public var index: Int
    public var message: ChatMessage
    /// `stop`, `length`, `content_filter`, … as the server said it.
    public var finishReason: String?
    public var logprobs: [TokenLogprob]?
    /// The reasoning text some providers return beside the answer (DeepSeek-R1 `reasoning_content`).
    public var reasoningContent: String?
    public init(index: Int, message: ChatMessage, finishReason: String?, logprobs: [TokenLogprob]? = nil,
                reasoningContent: String? = nil) {
        self.index = index
        self.message = message
        self.finishReason = finishReason
        self.logprobs = logprobs
        self.reasoningContent = reasoningContent
    }
}

public struct ChatResponse: Sendable, Equatable {
    public var id: String
    public var model: String
    public var choices: [ChatChoice]
    public var usage: ChatUsage?
    public init(id: String, model: String, choices: [ChatChoice], usage: ChatUsage?) {
        self.id = id
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// Anything that answers chat requests: the libcurl-backed OpenAI-compatible client, or (for logic tests that do not
/// exercise the transport) an in-process fake. Harvest and judge are written against this.
public protocol ChatCompleting: Sendable {
    func complete(_ request: ChatRequest) async throws -> ChatResponse
}
