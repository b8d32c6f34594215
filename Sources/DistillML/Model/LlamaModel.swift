import Foundation

/// A Llama-family decoder (llama, qwen2) running on the CPU: a ragged batch of sequences per forward pass.
///
/// What it is: the exact Float32 path (BLAS matmuls, HF semantics: RMSNorm, RoPE with (i, i+d/2) pairs, GQA,
/// SwiGLU, optional q/k/v biases, tied or separate head), plus an optional quantised-weight path for small batches.
/// What it is not: thread-safe (one forward at a time; it owns its scratch) or a sampler (see `Sampler`).
public final class LlamaModel {
    public let config: LlamaConfig
    public let parameters: LlamaParameters
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

    public init(parameters: LlamaParameters, maxRows: Int = 256) {
        self.parameters = parameters
        config = parameters.config
        self.maxRows = maxRows
        _ = Parallel.blasConfigured
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
                    runPass(pass, cache: cache, logits: logits)
                    pass = []
                    rows = 0
                }
            }
        }
        if rows > 0 { runPass(pass, cache: cache, logits: logits) }
    }

    /// Row `i` of the last forward's logits (vocabSize floats), valid until the next `forward`.
    public func logits(_ i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i < logitRowCount, "logit row \(i) of \(logitRowCount)")
        return UnsafeBufferPointer(start: logitStore + i * config.vocabSize, count: config.vocabSize)
    }

    public func logitsArray(_ i: Int) -> [Float] { Array(logits(i)) }

    // MARK: - One pass

    private func runPass(_ pass: [(slot: Int, tokens: ArraySlice<Int>, wantLogits: Bool)], cache: KVCache, logits: LogitRows) {
        let c = config, p = parameters
        let N = pass.reduce(0) { $0 + $1.tokens.count }
        let s: LlamaRunState
        if let existing = state, existing.capacity >= cache.capacity {
            s = existing
        } else {
            s = LlamaRunState(config: c, rows: maxRows, capacity: cache.capacity)
            state = s
        }
        let C = c.dim, H = c.hiddenDim, qDim = c.qDim, kvDim = c.kvDim
        // Row bookkeeping and the token embedding: x(N,C) = embedding[token].
        var n = 0
        var logitRows: [Int] = []
        let embedding = p.view(.tokenEmbedding)
        for item in pass {
            for (i, token) in item.tokens.enumerated() {
                s.slots[n] = Int32(item.slot)
                s.positions[n] = Int32(cache.lengths[item.slot] + i)
                (s.x + n * C).update(from: embedding + token * C, count: C)
                if logits == .all || (item.wantLogits && i == item.tokens.count - 1) { logitRows.append(n) }
                n += 1
            }
        }
        let useQuantized = quantized != nil && N <= quantizedMaxRows
        /// The products of one input (several for q/k/v and gate/up, which the int8 kernels then take in one call).
        func linear(_ inp: UnsafePointer<Float>, _ l: Int, inDim: Int,
                    _ products: (out: UnsafeMutablePointer<Float>, kind: LlamaParameters.Kind, bias: LlamaParameters.Kind?, outDim: Int)...) {
            if useQuantized, let qw = quantized {
                qw.matmul(products.map { .init(out: $0.out, kind: $0.kind, bias: $0.bias.flatMap { p.pointer($0, layer: l) }) },
                          inp, layer: l, N: N)
            } else {
                for product in products {
                    Kernels.matmul(product.out, inp, p.view(product.kind, l), product.bias.flatMap { p.pointer($0, layer: l) },
                                   N: N, C: inDim, OC: product.outDim)
                }
            }
        }
        ropeCos.withUnsafeBufferPointer { cosT in
            ropeSin.withUnsafeBufferPointer { sinT in
                for l in 0..<c.layers {
                    // Attention block: x += Wo · attention(rope(Wq·xb), rope(Wk·xb), Wv·xb), xb = rmsnorm(x).
                    Kernels.rmsnorm(s.xb, s.rstd, s.x, p.view(.attnNorm, l), N: N, C: C, eps: c.rmsNormEps)
                    linear(s.xb, l, inDim: C, (s.q, .wq, .bq, qDim), (s.k, .wk, .bk, kvDim), (s.v, .wv, .bv, kvDim))
                    Kernels.rope(s.q, positions: s.positions, N: N, heads: c.heads, headDim: c.headDim, rowStride: qDim,
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
                    linear(s.att, l, inDim: qDim, (s.xb2, .wo, nil, C))
                    Kernels.residualAdd(s.x, s.xb2, count: N * C)
                    // MLP block: x += Wdown · (silu(Wgate·xb) ⊙ Wup·xb), xb = rmsnorm(x).
                    Kernels.rmsnorm(s.xb, s.rstd, s.x, p.view(.ffnNorm, l), N: N, C: C, eps: c.rmsNormEps)
                    linear(s.xb, l, inDim: C, (s.gate, .wGate, nil, H), (s.up, .wUp, nil, H))
                    Kernels.swiglu(s.gate, s.gate, s.up, count: N * H)
                    linear(s.gate, l, inDim: H, (s.xb2, .wDown, nil, C))
                    Kernels.residualAdd(s.x, s.xb2, count: N * C)
                }
            }
        }
        for item in pass { cache.advance(slot: item.slot, by: item.tokens.count) }
        // Final norm and head, only for the rows that need logits: gather them into xb first.
        let R = logitRows.count
        guard R > 0 else { return }
        for (i, r) in logitRows.enumerated() { (s.xb2 + i * C).update(from: s.x + r * C, count: C) }
        Kernels.rmsnorm(s.xb, s.rstd, s.xb2, p.view(.finalNorm), N: R, C: C, eps: c.rmsNormEps)
        let out = logitStore + logitRowCount * c.vocabSize
        if let qw = quantized, R <= quantizedHeadMaxRows {
            qw.matmul([.init(out: out, kind: .output, bias: nil)], s.xb, layer: 0, N: R)
        } else {
            Kernels.matmul(out, s.xb, p.head, nil, N: R, C: C, OC: c.vocabSize)
        }
        logitRowCount += R
    }

    /// cos/sin tables for `positions` positions (`LlamaConfig.ropeTables`, shared with the trainer).
    private func ensureRope(upTo positions: Int) {
        guard ropeCos.count < positions * (config.headDim / 2) else { return }
        (ropeCos, ropeSin) = config.ropeTables(positions: positions)
    }
}
