import Foundation

/// A step-wise decoding engine over one KV cache: submit requests at any time, `step()` runs one forward pass over
/// every running sequence and returns what happened, `cancel` drops one request. Requests join the batch between
/// steps as slots free up (continuous batching), and a newcomer's prefill shares the pass with the others' decode.
///
/// Prompts that start alike share their prefill (a prefix cache, as vLLM's): the keys and values a slot holds stay
/// valid after its request finishes, until the slot is reused, so a prompt whose first tokens some slot holds — the
/// chat template's system turn, the same question sampled several times, a request of an earlier call — gets them
/// copied instead of recomputed. When the holder is being prefilled in the same pass, the newcomer waits one pass
/// for it. On the int8 path every row is computed alike, so sharing changes nothing; on the fp32 paths a sequence's
/// logits can differ from a separate prefill by float rounding (sgemm blocks rows differently).
/// `sharesPrefixes = false` turns it off.
///
/// Not thread-safe: one caller drives `submit`, `step` and `cancel` (the server's engine loop, or `generate`).
public final class Generator {
    public let model: LlamaModel
    public let cache: KVCache
    public var sharesPrefixes = true
    /// Prompt tokens run through the model, and prompt tokens whose keys and values were copied instead (all calls).
    public private(set) var promptTokensComputed = 0
    public private(set) var promptTokensShared = 0
    /// Shortest prefix worth waiting a pass for (copying what a slot already holds is always worth it).
    static let minimumWaitedPrefix = 8
    let decode: ([Int]) -> String
    let endTokens: Set<Int>

    struct Active {
        var request: GenerationRequest
        var sampler: Sampler
        var tokens: [Int] = []
        var logprobs: [Float] = []
        var top: [[(id: Int, logprob: Float)]] = []
        var pending: [Int]
        var shared = 0
        /// Waiting for slot `donor` to finish prefilling the first `count` prompt tokens, to copy them.
        var waitFor: (donor: Int, count: Int)?
        /// UTF-8 bytes of text already sent in `.token` events (streaming requests).
        var emittedBytes = 0
    }

    private var waiting: [GenerationRequest] = []
    private var waitingHead = 0
    /// The request running in each slot.
    private var active: [Active?]
    /// Tokens whose keys and values slot s holds (positions 0..<cache.lengths[s]); kept after a request ends.
    private var held: [[Int]]

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
        active = Array(repeating: nil, count: cache.slots)
        held = Array(repeating: [], count: cache.slots)
    }

    /// Requests waiting for a slot.
    public var queuedCount: Int { waiting.count - waitingHead }
    /// Requests in a slot.
    public var runningCount: Int { active.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
    public var hasWork: Bool { queuedCount > 0 || runningCount > 0 }
    /// Sequences the last `step()` ran through the model (0 when it ran no pass).
    public private(set) var lastPassRows = 0

    /// Queues a request; it joins the batch at the next `step()` with a free slot.
    public func submit(_ request: GenerationRequest) {
        waiting.append(request)
    }

    /// Drops request `id`, queued or running; returns what it had generated (finish reason `.cancelled`), or nil
    /// when no such request is queued or running. Its slot is free for the next step.
    @discardableResult
    public func cancel(_ id: Int) -> GenerationResult? {
        if let i = waiting[waitingHead...].firstIndex(where: { $0.id == id }) {
            let r = waiting.remove(at: i)
            return GenerationResult(id: id, tokens: [], text: "", finishReason: .cancelled, promptTokenCount: r.prompt.count,
                                    tokenLogprobs: [], topLogprobs: [])
        }
        guard let slot = active.firstIndex(where: { $0?.request.id == id }), let a = active[slot] else { return nil }
        active[slot] = nil
        // Keys and values of a half-prefilled or waiting slot are not the prompt's: forget them.
        if !a.pending.isEmpty || a.waitFor != nil { forget(slot) }
        return result(a, text: decode(a.tokens), finish: .cancelled)
    }

    /// Admits waiting requests into free slots, runs one forward pass over every running sequence, samples one
    /// token for each sequence whose prompt is done, and returns the events in slot order.
    public func step() throws -> [GenerationEvent] {
        var events: [GenerationEvent] = []
        admit(&events)
        let order = (0..<cache.slots).filter { !(active[$0]?.pending.isEmpty ?? true) }
        lastPassRows = order.count
        guard !order.isEmpty else { return events }
        let chunks = order.compactMap { slot in active[slot].map { LlamaModel.Chunk(slot: slot, tokens: $0.pending) } }
        try model.forward(chunks, cache: cache, logits: .last)
        for chunk in chunks { held[chunk.slot] += chunk.tokens }
        // Prompts that waited for a slot's prefill copy it now, before any slot is refilled.
        for slot in 0..<cache.slots {
            guard var a = active[slot], let (donor, count) = a.waitFor else { continue }
            cache.copyPrefix(from: donor, to: slot, count: count)
            held[slot] = Array(a.request.prompt.prefix(count))
            a.pending = Array(a.request.prompt[count...])
            a.waitFor = nil
            a.shared = count
            promptTokensShared += count
            promptTokensComputed += a.pending.count
            active[slot] = a
        }
        for (row, slot) in order.enumerated() {
            guard var a = active[slot] else { continue }
            let logits = model.logits(row)
            if let processor = a.request.logitsProcessor {
                processor.process(UnsafeMutableBufferPointer(mutating: logits), generated: a.tokens)
            }
            let token = a.sampler.sample(logits)
            a.request.logitsProcessor?.accept(token)
            let (lp, top) = Sampler.logprobs(logits, id: token, top: a.request.topLogprobs)
            if endTokens.contains(token) {
                active[slot] = nil
                events.append(.finished(result(a, text: decode(a.tokens), finish: .eos)))
                continue
            }
            a.tokens.append(token)
            a.logprobs.append(lp)
            if a.request.topLogprobs > 0 { a.top.append(top) }
            var finish: GenerationResult.FinishReason?
            var text: String?
            if !a.request.stop.isEmpty || a.request.streams {
                let t = decode(a.tokens)
                if let cut = a.request.stop.compactMap({ t.range(of: $0)?.lowerBound }).min() {
                    text = String(t[..<cut])
                    finish = .stop
                } else if a.request.streams {
                    let delta = Self.streamableDelta(t, after: a.emittedBytes, stops: a.request.stop)
                    a.emittedBytes += delta.utf8.count
                    events.append(.token(id: a.request.id, token: token, text: delta, logprob: lp, top: top))
                }
            }
            if finish == nil && (a.tokens.count >= a.request.maxTokens || cache.lengths[slot] + 1 >= cache.capacity) {
                finish = .length
            }
            if let finish {
                active[slot] = nil
                events.append(.finished(result(a, text: text ?? decode(a.tokens), finish: finish)))
            } else {
                a.pending = [token]
                active[slot] = a
            }
        }
        return events
    }

    /// Fills free slots from the queue; a request that cannot run fails alone.
    private func admit(_ events: inout [GenerationEvent]) {
        let capacity = cache.capacity
        for slot in 0..<cache.slots where active[slot] == nil {
            var admitted = false
            while !admitted, waitingHead < waiting.count {
                let next = waiting[waitingHead]
                waitingHead += 1
                guard !next.prompt.isEmpty, next.prompt.count < capacity else {
                    events.append(.failed(id: next.id, message: "prompt of \(next.prompt.count) tokens does not fit the "
                        + "context of \(capacity) (it must be 1 to \(capacity - 1) tokens)"))
                    continue
                }
                guard next.maxTokens > 0 else {
                    events.append(.failed(id: next.id, message: "max tokens must be at least 1"))
                    continue
                }
                active[slot] = start(next, in: slot)
                admitted = true
            }
            if waitingHead == waiting.count {
                waiting.removeAll(keepingCapacity: true)
                waitingHead = 0
            }
        }
    }

    /// Places `request` in `slot`, copying the longest prefix any slot holds (or waiting a pass for a longer one).
    private func start(_ request: GenerationRequest, in slot: Int) -> Active {
        var a = Active(request: request, sampler: Sampler(request.sampling), pending: request.prompt)
        // The last prompt token is always computed: its logits pick the first new token.
        let limit = request.prompt.count - 1
        var now = (donor: slot, count: 0), later = (donor: slot, count: 0)
        if sharesPrefixes {
            for d in 0..<cache.slots {
                let have = Self.commonPrefix(held[d], request.prompt[...], limit: limit)
                if have > now.count { now = (d, have) }
                if d != slot, let other = active[d], other.waitFor == nil, !other.pending.isEmpty {
                    let after = Self.commonPrefix(held[d] + other.pending, request.prompt[...], limit: limit)
                    if after > later.count { later = (d, after) }
                }
            }
        }
        if later.count >= now.count + Self.minimumWaitedPrefix {
            forget(slot)
            a.waitFor = later
            a.pending = []
        } else {
            cache.copyPrefix(from: now.donor, to: slot, count: now.count)
            held[slot] = Array(request.prompt.prefix(now.count))
            a.pending = Array(request.prompt[now.count...])
            a.shared = now.count
            promptTokensShared += now.count
            promptTokensComputed += a.pending.count
        }
        return a
    }

    private func forget(_ slot: Int) {
        cache.reset(slot: slot)
        held[slot] = []
    }

    private func result(_ a: Active, text: String, finish: GenerationResult.FinishReason) -> GenerationResult {
        GenerationResult(id: a.request.id, tokens: a.tokens, text: text, finishReason: finish,
                         promptTokenCount: a.request.prompt.count, cachedPromptTokens: a.shared,
                         tokenLogprobs: a.logprobs, topLogprobs: a.top)
    }

    /// Length of the common prefix of `a` and `b`, at most `limit`.
    static func commonPrefix(_ a: [Int], _ b: ArraySlice<Int>, limit: Int) -> Int {
        var i = 0
        let n = min(limit, a.count, b.count)
        while i < n && a[i] == b[b.startIndex + i] { i += 1 }
        return i
    }

    /// The text of `decoded` past the first `emitted` UTF-8 bytes that is safe to send now: not a trailing
    /// replacement character (a multi-byte character still arriving) and not a tail that may grow into a stop
    /// string (that part is held back until it either completes the stop or stops matching).
    static func streamableDelta(_ decoded: String, after emitted: Int, stops: [String]) -> String {
        var safe = Substring(decoded)
        while safe.last == "\u{FFFD}" { safe.removeLast() }
        var hold = 0
        for stop in stops {
            for n in stride(from: min(stop.count - 1, safe.count), to: 0, by: -1) where safe.hasSuffix(stop.prefix(n)) {
                hold = max(hold, n)
                break
            }
        }
        safe.removeLast(hold)
        let bytes = Array(safe.utf8)
        guard bytes.count > emitted else { return "" }
        return String(decoding: bytes[emitted...], as: UTF8.self)
    }
}
