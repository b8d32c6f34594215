/// Activations of one micro-batch shape (B,T) kept for the backward pass, and the backward pass's scratch
/// (llm.c `ActivationTensors`): one allocation with named views, planned once per shape and reused.
///
/// Per-layer tensors are stacked (L, N, ·) with N = B·T rows; `x(l)` style accessors point at layer l.
final class TrainingActivations {
    let B: Int, T: Int, N: Int
    private let L: Int, C: Int, H: Int, qDim: Int, kvDim: Int, NH: Int, V: Int, rank: Int
    private let slab: UnsafeMutablePointer<Float>
    let floatCount: Int
    // Kept for backward (stacked per layer). resid(l) is layer l's input; resid(L) the final residual stream.
    private let residBase, ln1Base, rstd1Base, qBase, kBase, vBase, attBase, attyBase: UnsafeMutablePointer<Float>
    private let resMidBase, ln2Base, rstd2Base, gateBase, upBase, swiBase, loraHBase: UnsafeMutablePointer<Float>
    let lnf, rstdf, logits, losses, headIn: UnsafeMutablePointer<Float>
    // Backward scratch, reused by every layer.
    let dres, dln, dq, dk, dv, datty, dgate, dup, dswi, dattScratch, dheadIn, proj: UnsafeMutablePointer<Float>
    let loraDh, dropMask, dropInput, dropGrad: UnsafeMutablePointer<Float>
    // Integer rows: tokens, targets, segments, RoPE positions (N each); head rows' targets (N).
    let tokens, targets, segments, positions, rowTargets: UnsafeMutablePointer<Int32>

    /// `loraSlots` adapted projections in all, each keeping h (N, rank); `dropoutWidth` > 0 reserves the dropout scratch.
    /// `attentionLayers` is L when every layer's softmax is kept, 1 when the backward pass recomputes it.
    let attentionLayers: Int

    init(config c: LlamaConfig, B: Int, T: Int, loraSlots: Int, rank: Int, dropoutWidth: Int, attentionLayers: Int) {
        self.attentionLayers = attentionLayers
        self.B = B; self.T = T
        let N = B * T
        self.N = N
        L = c.layers; C = c.dim; H = c.hiddenDim; qDim = c.qDim; kvDim = c.kvDim; NH = c.heads; V = c.vocabSize
        self.rank = rank
        var total = 0
        func reserve(_ n: Int) -> Int { defer { total += n }; return total }
        let L = c.layers, C = c.dim, H = c.hiddenDim, qDim = c.qDim, kvDim = c.kvDim
        let o = [reserve((L + 1) * N * C), reserve(L * N * C), reserve(L * N), reserve(L * N * qDim), reserve(L * N * kvDim),
                 reserve(L * N * kvDim), reserve(attentionLayers * B * c.heads * T * T), reserve(L * N * qDim),
                 reserve(L * N * C), reserve(L * N * C), reserve(L * N), reserve(L * N * H), reserve(L * N * H),
                 reserve(L * N * H), reserve(loraSlots * N * rank),
                 reserve(N * C), reserve(N), reserve(N * c.vocabSize), reserve(N), reserve(N * C),
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
    }

    func resid(_ l: Int) -> UnsafeMutablePointer<Float> { residBase + l * N * C }
    func ln1(_ l: Int) -> UnsafeMutablePointer<Float> { ln1Base + l * N * C }
    func rstd1(_ l: Int) -> UnsafeMutablePointer<Float> { rstd1Base + l * N }
    func q(_ l: Int) -> UnsafeMutablePointer<Float> { qBase + l * N * qDim }
    func k(_ l: Int) -> UnsafeMutablePointer<Float> { kBase + l * N * kvDim }
    func v(_ l: Int) -> UnsafeMutablePointer<Float> { vBase + l * N * kvDim }
    /// Layer l's softmax (B,NH,T,T); one shared block when attention is recomputed.
    func att(_ l: Int) -> UnsafeMutablePointer<Float> { attBase + (attentionLayers == 1 ? 0 : l) * B * NH * T * T }
    func atty(_ l: Int) -> UnsafeMutablePointer<Float> { attyBase + l * N * qDim }
    func resMid(_ l: Int) -> UnsafeMutablePointer<Float> { resMidBase + l * N * C }
    func ln2(_ l: Int) -> UnsafeMutablePointer<Float> { ln2Base + l * N * C }
    func rstd2(_ l: Int) -> UnsafeMutablePointer<Float> { rstd2Base + l * N }
    func gate(_ l: Int) -> UnsafeMutablePointer<Float> { gateBase + l * N * H }
    func up(_ l: Int) -> UnsafeMutablePointer<Float> { upBase + l * N * H }
    func swi(_ l: Int) -> UnsafeMutablePointer<Float> { swiBase + l * N * H }
    /// LoRA slot `s`'s h = u·Aᵀ (N, rank).
    func loraH(_ s: Int) -> UnsafeMutablePointer<Float> { loraHBase + s * N * rank }

    /// Bytes held (slab and integer rows).
    var byteCount: Int { floatCount * 4 + 5 * N * 4 }
}
