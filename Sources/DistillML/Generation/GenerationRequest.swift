import Foundation

/// Adjusts a request's next-token logits before sampling: a JSON-schema constraint sets the logits of tokens that
/// cannot continue valid output to -infinity. One processor serves one request (it keeps that request's state).
public protocol LogitsProcessor: AnyObject, Sendable {
    /// Edits `logits` (vocab) for the next token after `generated` (this request's tokens so far).
    func process(_ logits: UnsafeMutableBufferPointer<Float>, generated: [Int])
    /// Told the token that was chosen, so the processor can advance its state.
    func accept(_ token: Int)
}

/// One prompt to continue.
public struct GenerationRequest: Sendable {
    public var id: Int
    public var prompt: [Int]
    public var maxTokens: Int
    /// Generation stops when the decoded text contains one of these; the text is cut before it.
    public var stop: [String]
    public var sampling: SamplingParameters
    /// How many top alternatives to report per token (0 = none; the chosen token's logprob is always reported).
    public var topLogprobs: Int
    /// Emit `.token` events with text deltas as the request decodes (for streaming replies).
    public var streams: Bool
    /// Applied to the logits before every sampled token (constrained decoding).
    public var logitsProcessor: (any LogitsProcessor)?

    public init(id: Int, prompt: [Int], maxTokens: Int, stop: [String] = [], sampling: SamplingParameters = .greedy,
                topLogprobs: Int = 0, streams: Bool = false, logitsProcessor: (any LogitsProcessor)? = nil) {
        self.id = id
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.stop = stop
        self.sampling = sampling
        self.topLogprobs = topLogprobs
        self.streams = streams
        self.logitsProcessor = logitsProcessor
    }
}

/// A finished continuation.
public struct GenerationResult: Sendable {
    public enum FinishReason: String, Sendable {
        case stop, length, eos
        /// The caller cancelled the request (`Generator.cancel`); `tokens` holds what was generated until then.
        case cancelled
    }
    public var id: Int
    public var tokens: [Int]
    public var text: String
    public var finishReason: FinishReason
    public var promptTokenCount: Int
    /// Prompt tokens whose keys and values were copied from the prefix cache instead of computed.
    public var cachedPromptTokens: Int = 0
    /// log p(token) under the model (temperature 1), one per generated token.
    public var tokenLogprobs: [Float]
    public var topLogprobs: [[(id: Int, logprob: Float)]]
}

/// What one `Generator.step()` produced, in slot order.
public enum GenerationEvent: Sendable {
    /// A request chose `token`; `text` is the newly complete text (never half a UTF-8 character, never the start of
    /// a stop string that may still complete). Emitted only for requests that stream.
    case token(id: Int, token: Int, text: String, logprob: Float, top: [(id: Int, logprob: Float)])
    /// A request finished (stop, length, end of turn or cancelled).
    case finished(GenerationResult)
    /// A request could not run (its prompt does not fit, say); the others are unaffected.
    case failed(id: Int, message: String)
}
