import DistillData
import Foundation

/// A Llama-family decoder (llama, qwen2) being fine-tuned on the CPU: full fine-tuning or LoRA, cross-entropy or any
/// loss on top of its logits (llm.c `GPT2` with `forward` / `backward` as flat loops over the layers).
///
/// - Full mode: every weight trains (tied embedding included); `parameters` is the model's own Float32 slab and
///   `gradients` a second `LlamaParameters` slab of the same layout.
/// - LoRA mode: the base stays frozen in Float32; `parameters` holds each adapted projection's A (r, in) and B
///   (out, r), named as PEFT saves them, layer by layer in the order q, k, v, o, gate, up, down.
///
/// Activations for one micro-batch shape are planned once and reused. Kernels split work over output rows only and
/// sum in a fixed order, so the same inputs and seed give bitwise the same gradients.
/// What it is not: thread-safe (one pass at a time), or an optimiser (the training loop owns that).
public final class TrainableLlama: TrainableModel {
    public enum Mode: Sendable, Equatable {
        case full
        case lora(LoRAConfiguration)
    }

    /// Which rows of a batch `forward` computes logits for.
    public enum LogitRows: Sendable {
        /// Rows whose target is not `TrainingBatch.ignore` (what cross-entropy and distillation losses need).
        case targets
        /// Every row (B·T).
        case all
    }

    /// One adapted projection: where its A and B sit in `parameters`.
    struct LoRASlot {
        let layer: Int
        let target: LoRATarget
        let inDim: Int, outDim: Int
        let a: Int, b: Int
    }

    public let config: LlamaConfig
    /// The model's weights: trained in place in full mode, the frozen base in LoRA mode (without the seven
    /// projections when `frozen` holds them).
    public let base: LlamaParameters
    /// QLoRA (LoRA mode only): the frozen projections in the file's 4/8-bit blocks. The forward runs sgemm over row
    /// slices decoded on the fly (the values the fp32 loader would hold), the input gradient dX = dY·W likewise.
    public let frozen: QuantizedLinears?
    public let mode: Mode
    public let tensors: [TrainableTensor]
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    /// Full mode: gradients with `base`'s layout (`gradients` is its slab).
    let fullGradients: LlamaParameters?
    /// LoRA mode: the adapted projections, and slot index by (layer · 7 + target index).
    let loraSlots: [LoRASlot]
    let loraSlotIndex: [Int?]
    let lora: LoRAConfiguration?
    /// LoRA mode: parameters then gradients, one allocation.
    private let loraStorage: UnsafeMutablePointer<Float>?
    /// Keep one layer's attention softmax (B,NH,T,T) instead of every layer's, recomputing it in the backward pass:
    /// for long sequences, where those L·B·NH·T² floats dominate memory, at the cost of one more attention forward.
    public var recomputeAttention = false
    /// Keep only the residual stream per layer (resid (L+1, B·T, C), resMid (L, B·T, C)) and one layer's other
    /// activations; the backward pass runs each layer's forward again into that one block before its backward.
    /// Bitwise the same gradients, for one more pass of the layers' attention and q/k/v/gate/up products per step.
    public var recomputeLayers = false
    /// Head rows per chunk: the cross-entropy path holds logits (headChunkRows, V), never (B·T, V).
    public static let headChunkRows = 256
    /// Counts training forward passes; with the LoRA seed it fixes each pass's dropout masks. A checkpoint saves it.
    public var dropoutStream: UInt64 = 0
    /// When set, each kernel call's time is added to its phase (`distill bench train`'s breakdown).
    public var profile: TrainingProfile?
    var activations: TrainingActivations?
    var ropeCos: [Float] = []
    var ropeSin: [Float] = []
    /// Set by a training forward pass; `backward()` needs one.
    var pendingBackward: (rows: [Int], training: Bool)?

    public init(base: LlamaParameters, mode: Mode, frozen: QuantizedLinears? = nil) throws {
        _ = Parallel.blasConfigured
        if case .full = mode, frozen != nil || !base.isComplete {
            throw DistillMLError(file: "<trainer>", "full fine-tuning trains every weight in fp32: load the base with its fp32 projections (not 4/8-bit)")
        }
        if frozen == nil, !base.isComplete {
            throw DistillMLError(file: "<trainer>", "the base lacks projections and no 4/8-bit copy of them was given")
        }
        self.base = base
        self.frozen = frozen
        self.mode = mode
        let c = base.config
        config = c
        switch mode {
        case .full:
            let grads = LlamaParameters(config: c)
            fullGradients = grads
            parameters = UnsafeMutableBufferPointer(start: base.base, count: base.count)
            gradients = UnsafeMutableBufferPointer(start: grads.base, count: grads.count)
            tensors = base.entries.map { kind, layer in
                let (rows, cols) = kind.shape(c)
                return TrainableTensor(name: kind.hfName(layer: layer), shape: rows == 1 ? [cols] : [rows, cols],
                                       offset: base.view(kind, layer) - base.base)
            }
            loraSlots = []
            loraSlotIndex = []
            lora = nil
            loraStorage = nil
        case .lora(let cfg):
            guard cfg.rank > 0, cfg.alpha.isFinite, (0..<1).contains(cfg.dropout), !cfg.targets.isEmpty else {
                throw DistillMLError(file: "<lora>", "LoRA needs rank ≥ 1, a finite alpha, dropout in [0, 1) and at least one target (got rank \(cfg.rank), alpha \(cfg.alpha), dropout \(cfg.dropout), \(cfg.targets.count) targets)")
            }
            var slots: [LoRASlot] = []
            var index = [Int?](repeating: nil, count: c.layers * LoRATarget.allCases.count)
            var offset = 0
            for l in 0..<c.layers {
                for (t, target) in LoRATarget.allCases.enumerated() where cfg.targets.contains(target) {
                    let (outDim, inDim) = target.kind.shape(c)
                    index[l * LoRATarget.allCases.count + t] = slots.count
                    slots.append(LoRASlot(layer: l, target: target, inDim: inDim, outDim: outDim,
                                          a: offset, b: offset + cfg.rank * inDim))
                    offset += cfg.rank * (inDim + outDim)
                }
            }
            let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(2 * offset, 1))
            storage.initialize(repeating: 0, count: max(2 * offset, 1))
            loraStorage = storage
            parameters = UnsafeMutableBufferPointer(start: storage, count: offset)
            gradients = UnsafeMutableBufferPointer(start: storage + offset, count: offset)
            tensors = slots.flatMap { s in
                [TrainableTensor(name: s.target.peftName(layer: s.layer, "A"), shape: [cfg.rank, s.inDim], offset: s.a),
                 TrainableTensor(name: s.target.peftName(layer: s.layer, "B"), shape: [s.outDim, cfg.rank], offset: s.b)]
            }
            loraSlots = slots
            loraSlotIndex = index
            lora = cfg
            fullGradients = nil
            // PEFT: A ~ kaiming_uniform(a = √5) = U(−1/√in, 1/√in); B = 0.
            var rng = SplitMix64(seed: cfg.seed)
            for s in slots {
                let bound = 1 / Float(s.inDim).squareRoot()
                for i in 0..<(cfg.rank * s.inDim) { storage[s.a + i] = (Float(rng.nextUnit()) * 2 - 1) * bound }
            }
        }
    }

    deinit { loraStorage?.deallocate() }

    public func zeroGradients() { gradients.update(repeating: 0) }

    public func accumulateGradients(_ batch: TrainingBatch, lossScale: Float) throws -> (lossSum: Double, targets: Int) {
        let a = try forwardTrunk(batch, rows: .targets, training: true)
        let M = headCrossEntropy(a, dlossScale: lossScale)
        let result = sumLosses(rows: M)
        try backward(headDone: true)
        return result
    }

    public func evaluate(_ batch: TrainingBatch) throws -> (lossSum: Double, targets: Int) {
        let a = try forwardTrunk(batch, rows: .targets, training: false)
        return sumLosses(rows: headCrossEntropy(a, dlossScale: nil))
    }

    /// Head, log-softmax and cross-entropy over the head rows, `headRows` at a time, so only one chunk's logits
    /// (headRows, V) exist: each chunk's losses go to `losses`, and with `dlossScale` its d(loss)/d(logits) goes
    /// straight through the head's backward (dheadIn rows, head weight gradient) before the next chunk overwrites it.
    /// The chunks and their order are those of `forward` + `backward()`, so the bits are too. Returns M.
    private func headCrossEntropy(_ a: TrainingActivations, dlossScale: Float?) -> Int {
        let V = config.vocabSize
        headChunks(a, backward: dlossScale != nil) { rows, logits in
            Kernels.crossEntropy(logits, losses: a.losses + rows.lowerBound, targets: a.rowTargets + rows.lowerBound,
                                 M: rows.count, V: V, dlossScale: dlossScale)
        }
        return pendingBackward?.rows.count ?? 0
    }

    /// The head over the rows `forwardTrunk` picked, `headRows` at a time: `loss(rows, logits)` gets each chunk's
    /// rows (indices into `logitRowIndices`) and their logits (R,V), and with `backward` overwrites the logits with
    /// d(loss)/d(logits), whose head backward then runs before the next chunk. Only one chunk's logits exist; a
    /// `backward(headDone: true)` finishes the pass. The chunks are those of `forward` + `backward()`, so the bits are.
    func headChunks(_ a: TrainingActivations, backward: Bool,
                    _ loss: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        let M = pendingBackward?.rows.count ?? 0
        try timed(.head) {
            for lo in stride(from: 0, to: M, by: a.headRows) {
                let rows = lo..<min(M, lo + a.headRows)
                headForward(a.logits, a, rows: rows)
                try loss(rows, a.logits)
                if backward { headBackward(a.logits, a, rows: rows) }
            }
        }
    }

    /// Σ of the head rows' cross-entropies in Double, in row order (bitwise stable).
    private func sumLosses(rows: Int) -> (lossSum: Double, targets: Int) {
        guard let a = activations else { return (0, 0) }
        var sum = 0.0
        for m in 0..<rows { sum += Double(a.losses[m]) }
        return (sum, rows)
    }

    func requireActivations() throws -> TrainingActivations {
        guard let a = activations else { throw DistillMLError(file: "<trainer>", "no forward pass has run") }
        return a
    }

    /// LoRA slot of (layer, projection kind), if that projection is adapted.
    func loraSlot(_ layer: Int, _ kind: LlamaParameters.Kind) -> Int? {
        guard lora != nil, let t = LoRATarget.allCases.firstIndex(where: { $0.kind == kind }) else { return nil }
        return loraSlotIndex[layer * LoRATarget.allCases.count + t]
    }

    /// Gradient view of a base tensor; nil in LoRA mode (frozen) or when absent.
    func grad(_ kind: LlamaParameters.Kind, _ layer: Int = 0) -> UnsafeMutablePointer<Float>? {
        fullGradients?.pointer(kind, layer: layer)
    }

    /// Bytes of activations planned for the current micro-batch shape.
    public var activationBytes: Int { activations?.byteCount ?? 0 }
}
