import DistillData
import Foundation

/// A legacy `POST /v1/completions` request: continue (or, with `echo` and `logprobs`, score) raw text.
public struct CompletionRequest: Sendable, Equatable {
    public var model: String
    public var prompt: String
    /// 0 is allowed with `echo`: score the prompt, generate nothing.
    public var maxTokens: Int
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    public var n: Int
    public var stop: [String]?
    public var seed: Int?
    /// How many alternatives per token (0…20); nil = no logprobs.
    public var logprobs: Int?
    public var echo: Bool

    public init(model: String, prompt: String, maxTokens: Int = 16, n: Int = 1, logprobs: Int? = nil, echo: Bool = false) {
        self.model = model
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.n = n
        self.logprobs = logprobs
        self.echo = echo
    }

    /// Decodes a body the way `ChatRequest(serverBody:)` does: checked fields, unknown ones refused by name.
    public init(serverBody body: [UInt8]) throws(OpenAIError) {
        var (f, model) = try WireFields.requestBody(body)
        let prompt: String
        switch f.value("prompt") {
        case .string(let s)?: prompt = s
        case .array(let a)? where a.count == 1 && a[0].stringValue != nil: prompt = a[0].stringValue ?? ""
        case nil: throw .invalid("prompt", "'prompt' is required")
        default: throw .invalid("prompt", "'prompt' must be a string (or an array of one string)")
        }
        self.init(model: model, prompt: prompt)
        maxTokens = try f.int("max_tokens", in: 0...1_000_000) ?? 16
        temperature = try f.double("temperature", in: 0...2)
        topP = try f.double("top_p", in: 0...1)
        if topP == 0 { throw .invalid("top_p", "'top_p' must be above 0") }
        topK = try f.int("top_k", in: 0...100_000)
        minP = try f.double("min_p", in: 0...1)
        n = try f.int("n", in: 1...128) ?? 1
        stop = try f.stop("stop")
        seed = try f.int("seed", in: Int.min...Int.max)
        logprobs = try f.int("logprobs", in: 0...20)
        echo = try f.bool("echo") ?? false
        if maxTokens == 0 && !echo { throw .invalid("max_tokens", "'max_tokens' 0 only makes sense with 'echo': true") }
        if try f.bool("stream") == true {
            throw .invalid("stream", "'stream' is not supported on /v1/completions here; use /v1/chat/completions")
        }
        for penalty in ["frequency_penalty", "presence_penalty"] {
            if let p = try f.double(penalty, in: -2...2), p != 0 {
                throw .invalid(penalty, "'\(penalty)' is not supported by this server (only 0); remove it")
            }
        }
        if let b = try f.int("best_of", in: 1...128), b != n {
            throw .invalid("best_of", "'best_of' is not supported by this server; remove it")
        }
        try f.refuseUnknown(ignorable: ChatRequest.ignorable)
    }
}

/// One choice of a completion reply, with legacy-shaped logprobs (`tokens`, `token_logprobs`, `top_logprobs`,
/// `text_offset`); with `echo`, the prompt's tokens come first and the first has a null logprob.
public struct CompletionChoice: Sendable {
    public var text: String
    public var tokens: [String]
    public var tokenLogprobs: [Double?]
    public var topLogprobs: [[(token: String, logprob: Double)]]
    public var textOffsets: [Int]
    public var finishReason: String
    public var withLogprobs: Bool

    public init(text: String, tokens: [String], tokenLogprobs: [Double?], topLogprobs: [[(token: String, logprob: Double)]],
                textOffsets: [Int], finishReason: String, withLogprobs: Bool) {
        self.text = text
        self.tokens = tokens
        self.tokenLogprobs = tokenLogprobs
        self.topLogprobs = topLogprobs
        self.textOffsets = textOffsets
        self.finishReason = finishReason
        self.withLogprobs = withLogprobs
    }

    func json(index: Int) -> JSONValue {
        var logprobs: JSONValue = .null
        if withLogprobs {
            logprobs = .obj([
                ("tokens", .array(tokens.map(JSONValue.string))),
                ("token_logprobs", .array(tokenLogprobs.map { $0.map(JSONValue.double) ?? .null })),
                ("top_logprobs", .array(topLogprobs.enumerated().map { i, alts in
                    // The first echoed token has no context to be predicted from: null, as OpenAI sends.
                    i == 0 && tokenLogprobs.first.map({ $0 == nil }) == true ? .null
                        : .object(alts.map { JSONValue.Member($0.token, .double($0.logprob)) })
                })),
                ("text_offset", .array(textOffsets.map(JSONValue.int))),
            ])
        }
        return .obj([("index", .int(index)), ("text", .string(text)), ("logprobs", logprobs),
                     ("finish_reason", .string(finishReason))])
    }
}

/// `{"object": "text_completion", ...}`.
public enum CompletionResponse {
    public static func json(id: String, model: String, created: Int, choices: [CompletionChoice], usage: ChatUsage) -> JSONValue {
        .obj([("id", .string(id)), ("object", .string("text_completion")), ("created", .int(created)),
              ("model", .string(model)),
              ("choices", .array(choices.enumerated().map { $0.element.json(index: $0.offset) })),
              ("usage", usage.json)])
    }
}
