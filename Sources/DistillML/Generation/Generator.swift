import Foundation

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

    public init(id: Int, prompt: [Int], maxTokens: Int, stop: [String] = [], sampling: SamplingParameters = .greedy,
                topLogprobs: Int = 0) {
        self.id = id
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.stop = stop
        self.sampling = sampling
        self.topLogprobs = topLogprobs
    }
}

/// A finished continuation.
public struct GenerationResult: Sendable {
    public enum FinishReason: String, Sendable { case stop, length, eos }
    public var id: Int
    public var tokens: [Int]
    public var text: String
    public var finishReason: FinishReason
    public var promptTokenCount: Int
    /// log p(token) under the model (temperature 1), one per generated token.
    public var tokenLogprobs: [Float]
    public var topLogprobs: [[(id: Int, logprob: Float)]]
}

/// Continues many prompts at once over one KV cache (continuous batching: a finished sequence's slot is
/// refilled with the next waiting prompt, whose prefill shares the pass with the others' decode steps).
public final class Generator {
    public let model: LlamaModel
    public let cache: KVCache
    private let decode: ([Int]) -> String
    private let endTokens: Set<Int>

    /// - Parameters:
    ///   - slots: sequences decoded together (the batch size).
    ///   - capacity: longest prompt + continuation a slot can hold.
    ///   - decode: token ids to text (the tokenizer), used for stop strings and results.
    ///   - endTokens: ids that end a sequence (EOS, end-of-turn).
    public init(model: LlamaModel, slots: Int, capacity: Int, endTokens: Set<Int>, decode: @escaping ([Int]) -> String) {
        self.model = model
        cache = KVCache(config: model.config, slots: slots, capacity: min(capacity, model.config.contextLength))
        self.decode = decode
        self.endTokens = endTokens
    }

    private struct Active {
        var request: GenerationRequest
        var sampler: Sampler
        var tokens: [Int] = []
        var logprobs: [Float] = []
        var top: [[(id: Int, logprob: Float)]] = []
        var pending: [Int]
    }

    /// Runs every request to completion, calling `onResult` as each finishes (not in request order) and
    /// `onStep(tokensThisStep)` after every forward pass (for progress).
    public func generate(_ requests: [GenerationRequest], onStep: (Int) -> Void = { _ in },
                         onResult: (GenerationResult) throws -> Void) throws {
        var waiting = requests[...]
        var active: [Int: Active] = [:]
        let capacity = cache.capacity
        while !waiting.isEmpty || !active.isEmpty {
            for slot in 0..<cache.slots where active[slot] == nil {
                guard let next = waiting.popFirst() else { break }
                guard !next.prompt.isEmpty, next.prompt.count < capacity else {
                    throw DistillMLError(file: "<generate>",
                        "request \(next.id): prompt of \(next.prompt.count) tokens does not fit the context of \(capacity) (it must be 1 to \(capacity - 1))")
                }
                cache.reset(slot: slot)
                active[slot] = Active(request: next, sampler: Sampler(next.sampling), pending: next.prompt)
            }
            let order = active.keys.sorted()
            let chunks = order.compactMap { slot in active[slot].map { LlamaModel.Chunk(slot: slot, tokens: $0.pending) } }
            try model.forward(chunks, cache: cache, logits: .last)
            onStep(order.count)
            for (row, slot) in order.enumerated() {
                guard var a = active[slot] else { continue }
                let logits = model.logits(row)
                let token = a.sampler.sample(logits)
                let (lp, top) = Sampler.logprobs(logits, id: token, top: a.request.topLogprobs)
                var finish: GenerationResult.FinishReason?
                var text: String?
                if endTokens.contains(token) {
                    finish = .eos
                } else {
                    a.tokens.append(token)
                    a.logprobs.append(lp)
                    if a.request.topLogprobs > 0 { a.top.append(top) }
                    if !a.request.stop.isEmpty {
                        let t = decode(a.tokens)
                        if let cut = a.request.stop.compactMap({ t.range(of: $0)?.lowerBound }).min() {
                            text = String(t[..<cut])
                            finish = .stop
                        }
                    }
                    if finish == nil && (a.tokens.count >= a.request.maxTokens || cache.lengths[slot] + 1 >= capacity) {
                        finish = .length
                    }
                }
                if let finish {
                    active[slot] = nil
                    try onResult(GenerationResult(id: a.request.id, tokens: a.tokens, text: text ?? decode(a.tokens),
                                                  finishReason: finish, promptTokenCount: a.request.prompt.count,
                                                  tokenLogprobs: a.logprobs, topLogprobs: a.top))
                } else {
                    a.pending = [token]
                    active[slot] = a
                }
            }
        }
    }
}
