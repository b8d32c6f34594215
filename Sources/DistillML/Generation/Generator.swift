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
///
/// Prompts that start alike share their prefill (prefix sharing, as vLLM's prefix cache): a prompt whose first
/// tokens some slot already holds — the chat template's system turn, the same question sampled several times —
/// gets those keys and values copied instead of recomputed. When the holder is being prefilled in the same pass,
/// the newcomer waits one pass for it. The copied values are those the holder computed: on the int8 path every
/// row is computed alike, so sharing changes nothing; on the fp32 paths a sequence's logits can differ from a
/// separate prefill by float rounding (sgemm blocks rows differently). `sharesPrefixes = false` turns it off.
public final class Generator {
    public let model: LlamaModel
    public let cache: KVCache
    public var sharesPrefixes = true
    /// Prompt tokens run through the model, and prompt tokens whose keys and values were copied instead (all calls).
    public private(set) var promptTokensComputed = 0
    public private(set) var promptTokensShared = 0
    /// Shortest prefix worth waiting a pass for (copying what a slot already holds is always worth it).
    static let minimumWaitedPrefix = 8
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
        /// Waiting for slot `donor` to finish prefilling the first `count` prompt tokens, to copy them.
        var waitFor: (donor: Int, count: Int)?
    }

    /// Length of the common prefix of `a` and `b`, at most `limit`.
    private static func commonPrefix(_ a: [Int], _ b: ArraySlice<Int>, limit: Int) -> Int {
        var i = 0
        let n = min(limit, a.count, b.count)
        while i < n && a[i] == b[b.startIndex + i] { i += 1 }
        return i
    }

    /// Runs every request to completion, calling `onResult` as each finishes (not in request order) and
    /// `onStep(tokensThisStep)` after every forward pass (for progress).
    public func generate(_ requests: [GenerationRequest], onStep: (Int) -> Void = { _ in },
                         onResult: (GenerationResult) throws -> Void) throws {
        var waiting = requests[...]
        var active: [Int: Active] = [:]
        // Tokens whose keys and values slot s holds (positions 0..<cache.lengths[s]), from this call's passes.
        var held = [[Int]](repeating: [], count: cache.slots)
        let capacity = cache.capacity
        while !waiting.isEmpty || !active.isEmpty {
            for slot in 0..<cache.slots where active[slot] == nil {
                guard let next = waiting.popFirst() else { break }
                guard !next.prompt.isEmpty, next.prompt.count < capacity else {
                    throw DistillMLError(file: "<generate>",
                        "request \(next.id): prompt of \(next.prompt.count) tokens does not fit the context of \(capacity) (it must be 1 to \(capacity - 1))")
                }
                var a = Active(request: next, sampler: Sampler(next.sampling), pending: next.prompt)
                // The last prompt token is always computed: its logits pick the first new token.
                let limit = next.prompt.count - 1
                var now = (donor: slot, count: 0), later = (donor: slot, count: 0)
                if sharesPrefixes {
                    for d in 0..<cache.slots {
                        let have = Self.commonPrefix(held[d], next.prompt[...], limit: limit)
                        if have > now.count { now = (d, have) }
                        if d != slot, let other = active[d], other.waitFor == nil, !other.pending.isEmpty {
                            let after = Self.commonPrefix(held[d] + other.pending, next.prompt[...], limit: limit)
                            if after > later.count { later = (d, after) }
                        }
                    }
                }
                if later.count >= now.count + Self.minimumWaitedPrefix {
                    cache.reset(slot: slot)
                    held[slot] = []
                    a.waitFor = later
                    a.pending = []
                } else {
                    cache.copyPrefix(from: now.donor, to: slot, count: now.count)
                    held[slot] = Array(next.prompt.prefix(now.count))
                    a.pending = Array(next.prompt[now.count...])
                    promptTokensShared += now.count
                    promptTokensComputed += a.pending.count
                }
                active[slot] = a
            }
            let order = active.keys.sorted().filter { !(active[$0]?.pending.isEmpty ?? true) }
            let chunks = order.compactMap { slot in active[slot].map { LlamaModel.Chunk(slot: slot, tokens: $0.pending) } }
            try model.forward(chunks, cache: cache, logits: .last)
            onStep(order.count)
            for chunk in chunks { held[chunk.slot] += chunk.tokens }
            // Prompts that waited for a slot's prefill copy it now, before any slot is refilled.
            for (slot, var a) in active {
                guard let (donor, count) = a.waitFor else { continue }
                cache.copyPrefix(from: donor, to: slot, count: count)
                held[slot] = Array(a.request.prompt.prefix(count))
                a.pending = Array(a.request.prompt[count...])
                a.waitFor = nil
                promptTokensShared += count
                promptTokensComputed += a.pending.count
                active[slot] = a
            }
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
