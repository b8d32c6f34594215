import DistillData
import Foundation

extension TrainableLlama {
    /// Runs the model over `batch` and returns the logits (M, V) of the chosen rows (row-major; for `.targets` the
    /// rows with a target, in batch order). The buffer is the model's own and valid until the next pass: a loss
    /// writes d(loss)/d(logits) over it in place, then calls `backward()`. `training` turns LoRA dropout on and keeps
    /// what the backward pass needs. Cross-entropy (`accumulateGradients`, `evaluate`) does not come this way: it
    /// takes the head in chunks of rows, so these (M, V) logits never exist there; the products are the same.
    public func forward(_ batch: TrainingBatch, rows: LogitRows = .targets,
                        training: Bool = true) throws -> UnsafeMutableBufferPointer<Float> {
        let a = try forwardTrunk(batch, rows: rows, training: training)
        let M = pendingBackward?.rows.count ?? 0
        let logits = a.fullLogits()
        timed(.head) {
            for lo in stride(from: 0, to: M, by: a.headRows) {
                headForward(logits + lo * config.vocabSize, a, rows: lo..<min(M, lo + a.headRows))
            }
        }
        return UnsafeMutableBufferPointer(start: logits, count: M * config.vocabSize)
    }

    /// Everything but the head: embedding, the layers, the final norm; then the chosen rows of the normed stream go to
    /// headIn (M,C) and their targets to rowTargets (M), and `pendingBackward` records them.
    func forwardTrunk(_ batch: TrainingBatch, rows: LogitRows, training: Bool) throws -> TrainingActivations {
        try validate(batch)
        let c = config, B = batch.B, T = batch.T, N = B * T, C = c.dim
        let a = plan(B: B, T: T)
        for n in 0..<N {
            a.tokens[n] = batch.tokens[n]
            a.targets[n] = batch.targets[n]
            a.segments[n] = batch.segments[n]
            // RoPE positions restart at each segment's first token.
            let t = n % T
            a.positions[n] = t == 0 || batch.segments[n] != batch.segments[n - 1] ? 0 : a.positions[n - 1] + 1
        }
        ensureRope(positions: T)
        let stream = dropoutStream
        if training { dropoutStream &+= 1 }
        let p = base
        timed(.forwardOther) { Kernels.embeddingForward(a.resid(0), tokens: a.tokens, wte: p.view(.tokenEmbedding), N: N, C: C) }
        for l in 0..<c.layers { layerForward(l, a, stream, training, out: a.resid(l + 1)) }
        timed(.forwardOther) { Kernels.rmsnorm(a.lnf, a.rstdf, a.resid(c.layers), p.view(.finalNorm), N: N, C: C, eps: c.rmsNormEps) }
        let picked: [Int] = rows == .all ? Array(0..<N) : (0..<N).filter { a.targets[$0] != TrainingBatch.ignore }
        for (m, n) in picked.enumerated() {
            (a.headIn + m * C).update(from: a.lnf + n * C, count: C)
            a.rowTargets[m] = a.targets[n]
        }
        pendingBackward = (picked, training)
        return a
    }

    /// Head rows `rows` of headIn: logits (R,V) = headIn[rows] (R,C) · Whead (V,C)ᵀ. Every path takes the head in the
    /// same chunks of `headRows`, so a row's logits come from the same product whether or not all rows are kept.
    func headForward(_ logits: UnsafeMutablePointer<Float>, _ a: TrainingActivations, rows: Range<Int>) {
        Kernels.matmul(logits, a.headIn + rows.lowerBound * config.dim, base.head, nil, N: rows.count, C: config.dim,
                       OC: config.vocabSize)
    }

    /// One decoder layer over the micro-batch, from resid(l) (N,C) into `out` (N,C), keeping in `a`'s layer-l views
    /// what the backward pass reads. `out` nil recomputes a layer for its backward (only one layer's activations are
    /// kept): resMid(l) is kept, so the o and down products, which only feed the residual stream, are skipped, and of
    /// their LoRA paths only h. The same kernels on the same inputs with the same dropout stream give the same bits.
    func layerForward(_ l: Int, _ a: TrainingActivations, _ stream: UInt64, _ training: Bool, out: UnsafeMutablePointer<Float>?) {
        let c = config, B = a.B, T = a.T, N = a.N
        let C = c.dim, H = c.hiddenDim, qDim = c.qDim, kvDim = c.kvDim
        let p = base
        // Attention block: resMid = x + Wo · attention(rope(Wq·ln1), rope(Wk·ln1), Wv·ln1), ln1 = rmsnorm(x).
        let x = a.resid(l)
        timed(.forwardOther) { Kernels.rmsnorm(a.ln1(l), a.rstd1(l), x, p.view(.attnNorm, l), N: N, C: C, eps: c.rmsNormEps) }
        timed(.forwardProjections) {
            linearForward(a.q(l), a.ln1(l), l, .wq, .bq, inDim: C, outDim: qDim, a, stream, training)
            linearForward(a.k(l), a.ln1(l), l, .wk, .bk, inDim: C, outDim: kvDim, a, stream, training)
            linearForward(a.v(l), a.ln1(l), l, .wv, .bv, inDim: C, outDim: kvDim, a, stream, training)
        }
        timed(.forwardAttention) {
            ropeCos.withUnsafeBufferPointer { cosT in
                ropeSin.withUnsafeBufferPointer { sinT in
                    Kernels.rope(a.q(l), positions: a.positions, N: N, heads: c.heads, headDim: c.headDim, rowStride: qDim,
                                 cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                    Kernels.rope(a.k(l), positions: a.positions, N: N, heads: c.kvHeads, headDim: c.headDim, rowStride: kvDim,
                                 cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                }
            }
            Kernels.causalAttentionForward(a.atty(l), att: a.att(l), q: a.q(l), k: a.k(l), v: a.v(l), segments: a.segments,
                                           B: B, T: T, NH: c.heads, KVH: c.kvHeads, HD: c.headDim)
        }
        timed(.forwardProjections) {
            linearForward(out == nil ? nil : a.proj, a.atty(l), l, .wo, nil, inDim: qDim, outDim: C, a, stream, training)
        }
        if out != nil {
            timed(.forwardOther) {
                a.resMid(l).update(from: x, count: N * C)
                Kernels.residualAdd(a.resMid(l), a.proj, count: N * C)
            }
        }
        // MLP block: x' = resMid + Wdown · (silu(Wgate·ln2) ⊙ Wup·ln2), ln2 = rmsnorm(resMid).
        timed(.forwardOther) { Kernels.rmsnorm(a.ln2(l), a.rstd2(l), a.resMid(l), p.view(.ffnNorm, l), N: N, C: C, eps: c.rmsNormEps) }
        timed(.forwardProjections) {
            linearForward(a.gate(l), a.ln2(l), l, .wGate, nil, inDim: C, outDim: H, a, stream, training)
            linearForward(a.up(l), a.ln2(l), l, .wUp, nil, inDim: C, outDim: H, a, stream, training)
        }
        timed(.forwardOther) { Kernels.swiglu(a.swi(l), a.gate(l), a.up(l), count: N * H) }
        timed(.forwardProjections) {
            linearForward(out == nil ? nil : a.proj, a.swi(l), l, .wDown, nil, inDim: H, outDim: C, a, stream, training)
        }
        if let out {
            timed(.forwardOther) {
                out.update(from: a.resMid(l), count: N * C)
                Kernels.residualAdd(out, a.proj, count: N * C)
            }
        }
    }

    /// The flattened (b·T + t) rows of the logits the last `forward` returned, in order.
    public var logitRowIndices: [Int] { pendingBackward?.rows ?? [] }

    /// out (N,OC) = inp (N,C) · W (OC,C)ᵀ + bias, plus LoRA's scale · B·A·dropout(inp) when this projection is adapted.
    /// `out` nil (recomputation): only LoRA's h (N,r) = dropout(inp) · Aᵀ, what the backward pass reads.
    func linearForward(_ out: UnsafeMutablePointer<Float>?, _ inp: UnsafeMutablePointer<Float>, _ l: Int,
                       _ kind: LlamaParameters.Kind, _ bias: LlamaParameters.Kind?, inDim: Int, outDim: Int,
                       _ a: TrainingActivations, _ stream: UInt64, _ training: Bool) {
        let N = a.N
        if let out, let m = frozen?.matrix(kind, layer: l) {
            LinearLayer(fp32: nil, blocks: m, bias: bias.flatMap { base.pointer($0, layer: l) }.map { UnsafePointer($0) },
                        inDim: inDim, outDim: outDim).forward(out, inp, N: N, quantized: false)
        } else if let out {
            Kernels.matmul(out, inp, base.view(kind, l), bias.flatMap { base.pointer($0, layer: l) }, N: N, C: inDim, OC: outDim)
        }
        guard let s = loraSlot(l, kind), let cfg = lora else { return }
        let slot = loraSlots[s]
        Kernels.loraForward(out, h: a.loraH(s), u: loraInput(inp, slot: s, width: inDim, a, stream, training),
                            a: parameters.baseAddress! + slot.a, b: parameters.baseAddress! + slot.b,
                            scale: cfg.scale, N: N, C: inDim, OC: outDim, r: cfg.rank)
    }

    /// LoRA's input u (N,width): inp itself, or in training with dropout inp ⊙ mask in `a.dropInput` (the mask (N,width)
    /// left in `a.dropMask`, regenerated from the pass's stream).
    func loraInput(_ inp: UnsafeMutablePointer<Float>, slot s: Int, width: Int, _ a: TrainingActivations, _ stream: UInt64,
                   _ training: Bool) -> UnsafePointer<Float> {
        guard training, let p = lora?.dropout, p > 0 else { return UnsafePointer(inp) }
        dropoutMask(a.dropMask, slot: s, stream: stream, N: a.N, width: width, p: p)
        for i in 0..<(a.N * width) { a.dropInput[i] = inp[i] * a.dropMask[i] }
        return UnsafePointer(a.dropInput)
    }

    /// Inverted dropout's mask (N, width): 0 with probability p, else 1/(1−p). Each row draws from its own SplitMix64
    /// seeded by (LoRA seed, pass, slot, row), so the backward pass regenerates the same mask instead of storing it.
    func dropoutMask(_ mask: UnsafeMutablePointer<Float>, slot: Int, stream: UInt64, N: Int, width: Int, p: Float) {
        let seed = lora?.seed ?? 0
        let keep = 1 / (1 - p)
        Parallel.forEach(N) { n in
            var mix = SplitMix64(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
            var rng = SplitMix64(seed: mix.next() ^ (UInt64(slot) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(n) &* 0x8CB9_2BA7_2F3D_8DD7))
            let row = mask + n * width
            for i in 0..<width { row[i] = Float(rng.nextUnit()) < p ? 0 : keep }
        }
    }

    /// Plans (or reuses) the activations for a (B,T) micro-batch.
    func plan(B: Int, T: Int) -> TrainingActivations {
        let layersKept = recomputeLayers ? 1 : config.layers
        let attentionLayers = recomputeAttention ? 1 : layersKept
        if let a = activations, a.B == B, a.T == T, a.attentionLayers == attentionLayers, a.layersKept == layersKept { return a }
        activations = nil  // free the old shape first
        let widest = lora.map { cfg in cfg.dropout > 0 ? loraSlots.map(\.inDim).max() ?? 0 : 0 } ?? 0
        let a = TrainingActivations(config: config, B: B, T: T, loraSlots: loraSlots.count, rank: lora?.rank ?? 0,
                                    dropoutWidth: widest, attentionLayers: attentionLayers, layersKept: layersKept,
                                    headRows: Self.headChunkRows)
        activations = a
        return a
    }

    func validate(_ batch: TrainingBatch) throws {
        let n = batch.B.multipliedReportingOverflow(by: batch.T)
        guard batch.B > 0, batch.T > 0, !n.overflow, batch.tokens.count == n.partialValue,
              batch.targets.count == n.partialValue, batch.segments.count == n.partialValue else {
            throw DistillMLError(file: "<batch>", "a batch of B \(batch.B) × T \(batch.T) needs that many tokens, targets and segments (got \(batch.tokens.count), \(batch.targets.count), \(batch.segments.count))")
        }
        guard batch.T <= config.contextLength else {
            throw DistillMLError(file: "<batch>", "rows of \(batch.T) tokens exceed the model's context (\(config.contextLength))")
        }
        let V = Int32(config.vocabSize)
        if let bad = batch.tokens.first(where: { !(0..<V).contains($0) }) {
            throw DistillMLError(file: "<batch>", "token id \(bad) outside the vocabulary (\(V))")
        }
        if let bad = batch.targets.first(where: { $0 != TrainingBatch.ignore && !(0..<V).contains($0) }) {
            throw DistillMLError(file: "<batch>", "target id \(bad) is neither −1 (ignored) nor in the vocabulary (\(V))")
        }
    }

    /// RoPE tables for positions 0..<positions (the inference engine's formula, `LlamaConfig.ropeTables`).
    func ensureRope(positions: Int) {
        guard ropeCos.count < positions * (config.headDim / 2) else { return }
        (ropeCos, ropeSin) = config.ropeTables(positions: positions)
    }
}
