import DistillClient
import Foundation

/// A teacher response as the journal keeps it: every choice's text, finish reason and logprobs, and the usage.
/// (ChatResponse itself is the wire type; this is the storage form, with stable snake_case keys.)
public struct RecordedResponse: Codable, Sendable, Equatable {
    public struct Choice: Codable, Sendable, Equatable {
        public var index: Int
        public var content: String
        public var finishReason: String?
        public var logprobs: [TokenLogprob]?
        /// The reasoning a thinking model sent apart from its answer (DeepSeek-R1's `reasoning_content`).
        public var reasoningContent: String?

        public init(index: Int, content: String, finishReason: String?, logprobs: [TokenLogprob]?,
                    reasoningContent: String? = nil) {
            self.index = index
            self.content = content
            self.finishReason = finishReason
            self.logprobs = logprobs
            self.reasoningContent = reasoningContent
        }

        enum CodingKeys: String, CodingKey {
            case index, content, logprobs
            case finishReason = "finish_reason"
            case reasoningContent = "reasoning_content"
        }
    }

    public var id: String
    public var model: String
    public var choices: [Choice]
    public var usage: ChatUsage?

    public init(id: String, model: String, choices: [Choice], usage: ChatUsage?) {
        self.id = id
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    public init(_ r: ChatResponse) {
        self.init(id: r.id, model: r.model,
                  choices: r.choices.map {
                      Choice(index: $0.index, content: $0.message.content, finishReason: $0.finishReason, logprobs: $0.logprobs,
                             reasoningContent: $0.reasoningContent)
                  },
                  usage: r.usage)
    }

    /// The first choice's text (the one every recipe reads), or "" if the server sent no choice.
    public var text: String { choices.first?.content ?? "" }
    public var finishReason: String? { choices.first?.finishReason }
    /// `true` when the first choice was cut off at max_tokens (finish_reason "length"), else nil (left out of rows).
    public var truncated: Bool? { finishReason == "length" ? true : nil }
}

/// One line of `journal.jsonl`: a completed request, written before it counts as done.
public struct HarvestJournalEntry: Codable, Sendable {
    /// `HarvestKey.id`.
    public var key: String
    public var item: String
    public var stage: String
    public var sample: Int
    public var promptHash: String
    public var paramsHash: String
    public var response: RecordedResponse
    /// Unix seconds when it was recorded.
    public var at: Double

    public init(key: HarvestKey, response: RecordedResponse, at: Double = Date().timeIntervalSince1970) {
        self.key = key.id
        self.item = key.item
        self.stage = key.stage
        self.sample = key.sample
        self.promptHash = key.promptHash
        self.paramsHash = key.paramsHash
        self.response = response
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case key, item, stage, sample, response, at
        case promptHash = "prompt_hash"
        case paramsHash = "params_hash"
    }
}

/// One line of `failures.jsonl`: a request that failed for good (after the client's own retries), and why.
public struct HarvestFailure: Codable, Sendable {
    public var key: String
    public var item: String
    public var stage: String
    public var sample: Int
    public var reason: String
    public var at: Double

    public init(key: HarvestKey, reason: String, at: Double = Date().timeIntervalSince1970) {
        self.key = key.id
        self.item = key.item
        self.stage = key.stage
        self.sample = key.sample
        self.reason = reason
        self.at = at
    }
}
