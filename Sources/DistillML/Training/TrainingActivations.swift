/// Activations of one micro-batch shape (B,T) kept for the backward pass, and the backward pass's scratch
/// (llm.c `ActivationTensors`): one allocation with named views, planned once per shape and reused.
///
/// Per-layer tensors are stacked (L, N, ·) with N = B·T rows; `x(l)` style accessors point at layer l. With layer
/// recomputation (`layersKept` 1) only the residual stream stays stacked, each layer's input resid (L+1, N, C) and its
/// middle resMid (L, N, C): every other per-layer view points at one layer's block, which the backward pass refills
/// by running the layer's forward again (less its o and down products, whose outputs only fed the residuals).
/// The head works on `headRows` rows at a time: `logits` is (headRows, V), never (N, V), on the cross-entropy path.
final class TrainingActivations {
    let B: Int, T: Int, N: Int
    private let L: Int, C: Int, H: Int, qDim: Int, kvDim: Int, NH: Int, V: Int, rank: Int, loraPerLayer: Int
    private let slab: UnsafeMutablePointer<Float>
    let floatCount: Int
    // Kept for backward (stacked per layer). resid(l) is layer l's input; resid(L) the final residual stream.
    // (N,C): resid, ln1, resMid, ln2; (N): rstd1, rstd2; (N,qDim): q, atty; (N,kvDim): k, v; (N,H): gate, up, swi;
    // att (B,NH,T,T); loraH (N,rank) per adapted projection.
    private let residBase, ln1Base, rstd1Base, qBase, kBase, vBase, attBase, attyBase: UnsafeMutablePointer<Float>
    private let resMidBase, ln2Base, rstd2Base, gateBase, upBase, swiBase, loraHBase: UnsafeMutablePointer<Float>
    // lnf, headIn (N,C); rstdf, losses (N); logits (headRows,V): one head chunk's logits, or its d(loss)/d(logits).
    let lnf, rstdf, logits, losses, headIn: UnsafeMutablePointer<Float>
    // Backward scratch, reused by every layer. (N,C): dres, dln, dheadIn, proj; (N,qDim): dq, datty; (N,kvDim): dk,
    // dv; (N,H): dgate, dup, dswi; dattScratch (B,KVH,T,T); loraDh (N,rank); dropMask, dropInput, dropGrad (N,widest in).
    let dres, dln, dq, dk, dv, datty, dgate, dup, dswi, dattScratch, dheadIn, proj: UnsafeMutablePointer<Float>
    let loraDh, dropMask, dropInput, dropGrad: UnsafeMutablePointer<Float>
    // Integer rows (N each): tokens, targets, segments, RoPE positions; rowTargets: the head rows' targets.
    let tokens, targets, segments, positions, rowTargets: UnsafeMutablePointer<Int32>

    /// `loraSlots` adapted projections in all, each keeping h (N, rank); `dropoutWidth` > 0 reserves the dropout scratch.
    /// `attentionLayers` is L when every layer's softmax is kept, 1 when the backward pass recomputes it; `layersKept`
    /// likewise for every other per-layer activation but the residual stream.
    let attentionLayers: Int
    let layersKept: Int
    /// Rows of one head chunk (logits (headRows,V)).
    let headRows: Int
    /// (N,V): every row's logits at once, allocated on the first `forward` that returns them (distillation losses).
    private var allLogits: UnsafeMutablePointer<Float>?

    init(config c: LlamaConfig, B: Int, T: Int, loraSlots: Int, rank: Int, dropoutWidth: Int, attentionLayers: Int,
         layersKept: Int, headRows: Int) {
        self.attentionLayers = attentionLayers
        self.layersKept = layersKept
        self.B = B; self.T = T
        let N = B * T
        self.N = N
        self.headRows = min(N, headRows)
        L = c.layers; C = c.dim; H = c.hiddenDim; qDim = c.qDim; kvDim = c.kvDim; NH = c.heads; V = c.vocabSize
        self.rank = rank
        loraPerLayer = max(1, loraSlots / c.layers)
        var total = 0
        func reserve(_ n: Int) -> Int { defer { total += n }; return total }
        let K = layersKept, C = c.dim, H = c.hiddenDim, qDim = c.qDim, kvDim = c.kvDim
        let o = [reserve((c.layers + 1) * N * C), reserve(K * N * C), reserve(K * N), reserve(K * N * qDim), reserve(K * N * kvDim),
                 reserve(K * N * kvDim), reserve(attentionLayers * B * c.heads * T * T), reserve(K * N * qDim),
                 reserve(c.layers * N * C), reserve(K * N * C), reserve(K * N), reserve(K * N * H), reserve(K * N * H),
                 reserve(K * N * H), reserve((K == 1 ? loraPerLayer : loraSlots) * N * rank),
                 reserve(N * C), reserve(N), reserve(self.headRows * c.vocabSize), reserve(N), reserve(N * C),
                 reserve(N * C), reserve(N * C), reserve(N * qDim), reserve(N * kvDim), reserve(N * kvDim), reserve(N * qDim),
                 reserve(N * H), reserve(N * H), reserve(N * H), reserve(B * c.kvHeads * T * T), reserve(N * C), reserve(N * C),
                 reserve(N * rank), reserve(N * dropoutWidth), reserve(N * dropoutWidth), reserve(N * dropoutWidth)]
        floatCount = total
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
        storage.initialize(repeating: 0, count: max(total, 1))
        slab = storage
        let p = o.map { storage + $0 }
        (residBase, ln1Base, rstd1Base, qBase, kBase, vBase, attBase, attyBase) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
        (resMidBase, ln2Base, rstd2Base, gateBase, upBase, swiBase, loraHBase) = (p[8], p[9], p[10], p[11], p[12], p[13], p[14])
        (lnf, rstdf, logits, losses, headIn) = (p[15], p[16], p[17], p[18], p[19])
        (dres, dln, dq, dk, dv, datty, dgate, dup, dswi, dattScratch, dheadIn, proj) =
            (p[20], p[21], p[22], p[23], p[24], p[25], p[26], p[27], p[28], p[29], p[30], p[31])
        (loraDh, dropMask, dropInput, dropGrad) = (p[32], p[33], p[34], p[35])
        let ints = UnsafeMutablePointer<Int32>.allocate(capacity: 5 * N)
        ints.initialize(repeating: 0, count: 5 * N)
        (tokens, targets, segments, positions, rowTargets) = (ints, ints + N, ints + 2 * N, ints + 3 * N, ints + 4 * N)
    }

    deinit {
        slab.deallocate()
        tokens.deallocate()
        allLogits?.deallocate()
    }

    /// (N,V) logits for `forward`'s callers; allocated once per shape, on first use.
    func fullLogits() -> UnsafeMutablePointer<Float> {
        if let allLogits { return allLogits }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: N * V)
        p.initialize(repeating: 0, count: N * V)
        allLogits = p
        return p
    }

    /// Where layer l's activations sit: its own block, or the one shared block under layer recomputation.
    private func kept(_ l: Int) -> Int { layersKept == 1 ? 0 : l }

    func resid(_ l: Int) -> UnsafeMutablePointer<Float> { residBase + l * N * C }
    func ln1(_ l: Int) -> UnsafeMutablePointer<Float> { ln1Base + kept(l) * N * C }
    func rstd1(_ l: Int) -> UnsafeMutablePointer<Float> { rstd1Base + kept(l) * N }
    func q(_ l: Int) -> UnsafeMutablePointer<Float> { qBase + kept(l) * N * qDim }
    func k(_ l: Int) -> UnsafeMutablePointer<Float> { kBase + kept(l) * N * kvDim }
    func v(_ l: Int) -> UnsafeMutablePointer<Float> { vBase + kept(l) * N * kvDim }
    /// Layer l's softmax (B,NH,T,T); one shared block when attention is recomputed.
    func att(_ l: Int) -> UnsafeMutablePointer<Float> { attBase + (attentionLayers == 1 ? 0 : l) * B * NH * T * T }
    func atty(_ l: Int) -> UnsafeMutablePointer<Float> { attyBase + kept(l) * N * qDim }
    func resMid(_ l: Int) -> UnsafeMutablePointer<Float> { resMidBase + l * N * C }
    func ln2(_ l: Int) -> UnsafeMutablePointer<Float> { ln2Base + kept(l) * N * C }
    func rstd2(_ l: Int) -> UnsafeMutablePointer<Float> { rstd2Base + kept(l) * N }
    func gate(_ l: Int) -> UnsafeMutablePointer<Float> { gateBase + kept(l) * N * H }
    func up(_ l: Int) -> UnsafeMutablePointer<Float> { upBase + kept(l) * N * H }
    func swi(_ l: Int) -> UnsafeMutablePointer<Float> { swiBase + kept(l) * N * H }
    /// LoRA slot `s`'s h = u·Aᵀ (N, rank).
    func loraH(_ s: Int) -> UnsafeMutablePointer<Float> { loraHBase + (layersKept == 1 ? s % loraPerLayer : s) * N * rank }

    /// Bytes held (slab, integer rows, and the (N,V) logits once a caller asked for them).
    var byteCount: Int { floatCount * 4 + 5 * N * 4 + (allLogits == nil ? 0 : N * V * 4) }
}
