import Foundation

/// A Llama-family decoder (llama, qwen2) running on the CPU: a ragged batch of sequences per forward pass.
///
/// What it is: the exact Float32 path (BLAS matmuls, HF semantics: RMSNorm, RoPE with (i, i+d/2) pairs, GQA,
/// SwiGLU, optional q/k/v biases, tied or separate head), plus an optional quantised-weight path for small batches,
/// and an optional LoRA adapter kept apart from the weights. A model loaded from a 4/8-bit GGUF may keep no fp32
/// copy at all (`parameters` nil): it then runs its matrices' own blocks, decoded per slice for long passes.
/// What it is not: thread-safe (one forward at a time; it owns its scratch) or a sampler (see `Sampler`).
public final class LlamaModel {
    public let config: LlamaConfig
    /// The fp32 weights; nil when the model runs on its 4/8-bit matrices alone (`init(quantized:vectors:)`).
    public let parameters: LlamaParameters?
    /// Norms, biases and the file-backed embedding of a model without fp32 parameters.
    let vectors: LlamaVectors?
    /// A LoRA adapter applied unmerged (y = W·x + (alpha/r)·B·(A·x)); nil runs the base alone.
    public var adapter: LoRAWeights?
    /// Weights re-encoded for memory-bound decoding; used when set and a pass has at most `quantizedMaxRows` rows
    /// (`quantizedHeadMaxRows` for the output head).
    /// Setting one with other kernels than the last one set also sets the row thresholds below to those measured
    /// for them (putting the same kind back, e.g. after a comparison with the exact path, keeps thresholds you set).
    public var quantized: QuantizedLinears? {
        didSet {
            guard let quantized, quantized.activations != thresholdsKernels else { return }
            thresholdsKernels = quantized.activations
            (quantizedMaxRows, quantizedHeadMaxRows) = quantized.activations == .int8 ? (.max, .max) : (12, 16)
        }
    }
    private var thresholdsKernels: QuantizedActivations = .float
    /// Where the 4-bit kernel stops paying: its cost grows with the rows while sgemm's packing is amortised over them.
    /// Measured for fp32 activations (CPU-ms per generated token incl. prefill, SmolLM2-135M, 2 cores): 8 rows 7.4
    /// quantised vs 9.4–10.4 sgemm; 16 rows 7.1 quantised vs 6.6 sgemm. The head (49152 rows) stays quantised to 16:
    /// 1.04 vs 1.25 ms/token there. The int8 kernels take every pass, prefill included, as llama.cpp's do: each row
    /// is then computed the same way whatever shares its pass, so answers do not depend on the batch size (mixing
    /// in sgemm's fp32 would move logits by the ~5% that int8 inputs cost, enough to flip greedy near-ties).
    public var quantizedMaxRows = 12
    public var quantizedHeadMaxRows = 16
    /// Most tokens in one pass; longer batches are split (the KV cache carries the rest).
    public let maxRows: Int
    private var state: LlamaRunState?
    private var ropeCos: [Float] = []
    private var ropeSin: [Float] = []
    /// Logit rows of the last forward; a raw allocation so `logits(_:)` can hand out views that outlive a closure.
    private var logitStore = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var logitCapacity = 1
    public private(set) var logitRowCount = 0

    public convenience init(parameters: LlamaParameters, maxRows: Int = 256) {
        self.init(config: parameters.config, parameters: parameters, vectors: nil, maxRows: maxRows)
    }

    /// A model without fp32 copies: every pass runs `quantized` (few rows through its kernels, many through sgemm
    /// over slices decoded on the fly), norms and embedding rows come from `vectors`.
    convenience init(quantized: QuantizedLinears, vectors: LlamaVectors, maxRows: Int = 256) {
        self.init(config: vectors.config, parameters: nil, vectors: vectors, maxRows: maxRows)
        self.quantized = quantized
        // Observers do not run inside an initialiser: the thresholds `quantized`'s didSet would set.
        thresholdsKernels = quantized.activations
        (quantizedMaxRows, quantizedHeadMaxRows) = quantized.activations == .int8 ? (.max, .max) : (12, 16)
    }

    private init(config: LlamaConfig, parameters: LlamaParameters?, vectors: LlamaVectors?, maxRows: Int) {
        self.config = config
        self.parameters = parameters
        self.vectors = vectors
        self.maxRows = maxRows
        _ = Parallel.blasConfigured
    }

    /// Another model over the same weights (no copy), with its own scratch and adapter: a second thread, or the
    /// same base served under several adapters.
    public func sharingWeights(adapter: LoRAWeights?) -> LlamaModel {
        let other = LlamaModel(config: config, parameters: parameters, vectors: vectors, maxRows: maxRows)
        other.quantized = quantized
        other.quantizedMaxRows = quantizedMaxRows
        other.quantizedHeadMaxRows = quantizedHeadMaxRows
        other.adapter = adapter
        return other
    }

    deinit { logitStore.deallocate() }

    /// Which rows of a batch need logits.
    public enum LogitRows: Sendable {
        /// One row per chunk: its last token (generation).
        case last
        /// Every token (parity tests, scoring).
        case all
    }

    /// One sequence's new tokens in a batch: appended to cache slot `slot` after its current length.
    public struct Chunk: Sendable {
        public var slot: Int
        public var tokens: [Int]
        public init(slot: Int, tokens: [Int]) {
            self.slot = slot
            self.tokens = tokens
        }
    }

    /// Runs the new tokens of each chunk through the model, appending their keys and values to `cache`.
    /// Afterwards `logits(row)` holds the requested rows in chunk order; valid until the next call.
    public func forward(_ chunks: [Chunk], cache: KVCache, logits: LogitRows = .last) throws {
        for chunk in chunks {
            guard (0..<cache.slots).contains(chunk.slot) else { throw DistillMLError(file: "<model>", "cache slot \(chunk.slot) out of range") }
            guard cache.lengths[chunk.slot] + chunk.tokens.count <= min(cache.capacity, config.contextLength) else {
                throw DistillMLError(file: "<model>",
                    "sequence of \(cache.lengths[chunk.slot] + chunk.tokens.count) tokens exceeds the KV cache (\(cache.capacity)) or context (\(config.contextLength))")
            }
            if let bad = chunk.tokens.first(where: { !(0..<config.vocabSize).contains($0) }) {
                throw DistillMLError(file: "<model>", "token id \(bad) outside the vocabulary (\(config.vocabSize))")
            }
        }
        let weights = try weights()
        let wanted = chunks.reduce(0) { $0 + (logits == .all ? $1.tokens.count : ($1.tokens.isEmpty ? 0 : 1)) }
        if logitCapacity < wanted * config.vocabSize {
            logitStore.deallocate()
            logitCapacity = wanted * config.vocabSize
            logitStore = .allocate(capacity: logitCapacity)
        }
        logitRowCount = 0
        ensureRope(upTo: cache.capacity)
        // Split into passes of at most maxRows tokens; a chunk may straddle passes.
        var pass: [(slot: Int, tokens: ArraySlice<Int>, wantLogits: Bool)] = []
        var rows = 0
        for chunk in chunks {
            var rest = chunk.tokens[...]
            while !rest.isEmpty {
                let take = min(rest.count, maxRows - rows)
                let piece = rest.prefix(take)
                rest = rest.dropFirst(take)
                pass.append((chunk.slot, piece, logits == .all || rest.isEmpty))
                rows += take
                if rows == maxRows {
                    runPass(pass, weights, cache: cache, logits: logits)
                    pass = []
                    rows = 0
                }
            }
        }
        if rows > 0 { runPass(pass, weights, cache: cache, logits: logits) }
    }

    /// Row `i` of the last forward's logits (vocabSize floats), valid until the next `forward`.
    public func logits(_ i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i < logitRowCount, "logit row \(i) of \(logitRowCount)")
        return UnsafeBufferPointer(start: logitStore + i * config.vocabSize, count: config.vocabSize)
    }

    public func logitsArray(_ i: Int) -> [Float] { Array(logits(i)) }

    // MARK: - One pass

    private func runPass(_ pass: [(slot: Int, tokens: ArraySlice<Int>, wantLogits: Bool)], _ w: Weights, cache: KVCache,
                         logits: LogitRows) {
        let c = config
        let N = pass.reduce(0) { $0 + $1.tokens.count }
        let s: LlamaRunState
        if let existing = state, existing.capacity >= cache.capacity {
            s = existing
        } else {
            s = LlamaRunState(config: c, rows: maxRows, capacity: cache.capacity)
            state = s
        }
        let C = c.dim, H = c.hiddenDim, kvDim = c.kvDim
        // Row bookkeeping and the token embedding: x(N,C) = embedding[token].
        var n = 0
        var logitRows: [Int] = []
        for item in pass {
            for (i, token) in item.tokens.enumerated() {
                s.slots[n] = Int32(item.slot)
                s.positions[n] = Int32(cache.lengths[item.slot] + i)
                embed(token, into: s.x + n * C)
                if logits == .all || (item.wantLogits && i == item.tokens.count - 1) { logitRows.append(n) }
                n += 1
            }
        }
        let q = quantized != nil && N <= quantizedMaxRows
        ropeCos.withUnsafeBufferPointer { cosT in
            ropeSin.withUnsafeBufferPointer { sinT in
                for (l, layer) in w.layers.enumerated() {
                    // Attention block: x += Wo · attention(rope(Wq·xb), rope(Wk·xb), Wv·xb), xb = rmsnorm(x).
                    Kernels.rmsnorm(s.xb, s.rstd, s.x, layer.attnNorm, N: N, C: C, eps: c.rmsNormEps)
                    LinearLayer.forward([(layer.q, s.q), (layer.k, s.k), (layer.v, s.v)], s.xb, N: N, quantized: q)
                    Kernels.rope(s.q, positions: s.positions, N: N, heads: c.heads, headDim: c.headDim, rowStride: c.qDim,
                                 cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                    Kernels.rope(s.k, positions: s.positions, N: N, heads: c.kvHeads, headDim: c.headDim, rowStride: kvDim,
                                 cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                    let kc = cache.keys(layer: l), vc = cache.values(layer: l)
                    for r in 0..<N {
                        let at = (Int(s.slots[r]) * cache.capacity + Int(s.positions[r])) * kvDim
                        (kc + at).update(from: s.k + r * kvDim, count: kvDim)
                        (vc + at).update(from: s.v + r * kvDim, count: kvDim)
                    }
                    Kernels.attention(s.att, q: s.q, kCache: kc, vCache: vc, slots: s.slots, positions: s.positions,
                                      scores: s.scores, N: N, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
                                      capacity: cache.capacity)
                    layer.o.forward(s.xb2, s.att, N: N, quantized: q)
                    Kernels.residualAdd(s.x, s.xb2, count: N * C)
                    // MLP block: x += Wdown · (silu(Wgate·xb) ⊙ Wup·xb), xb = rmsnorm(x).
                    Kernels.rmsnorm(s.xb, s.rstd, s.x, layer.ffnNorm, N: N, C: C, eps: c.rmsNormEps)
                    LinearLayer.forward([(layer.gate, s.gate), (layer.up, s.up)], s.xb, N: N, quantized: q)
                    Kernels.swiglu(s.gate, s.gate, s.up, count: N * H)
                    layer.down.forward(s.xb2, s.gate, N: N, quantized: q)
                    Kernels.residualAdd(s.x, s.xb2, count: N * C)
                }
            }
        }
        for item in pass { cache.advance(slot: item.slot, by: item.tokens.count) }
        // Final norm and head, only for the rows that need logits: gather them into xb first.
        let R = logitRows.count
        guard R > 0 else { return }
        for (i, r) in logitRows.enumerated() { (s.xb2 + i * C).update(from: s.x + r * C, count: C) }
        Kernels.rmsnorm(s.xb, s.rstd, s.xb2, w.finalNorm, N: R, C: C, eps: c.rmsNormEps)
        w.head.forward(logitStore + logitRowCount * c.vocabSize, s.xb, N: R, quantized: quantized != nil && R <= quantizedHeadMaxRows)
        logitRowCount += R
    }

    /// cos/sin tables for `positions` positions (`LlamaConfig.ropeTables`, shared with the trainer).
    private func ensureRope(upTo positions: Int) {
        guard ropeCos.count < positions * (config.headDim / 2) else { return }
        (ropeCos, ropeSin) = config.ropeTables(positions: positions)
    }
}
