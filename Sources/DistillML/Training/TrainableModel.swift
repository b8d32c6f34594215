import Foundation

/// One micro-batch for training: `B` rows of `T` token ids, each with its target and its segment.
///
/// Shapes (llm.c habit): `tokens (B,T)`, `targets (B,T)`, `segments (B,T)`, row-major.
/// - `targets[b,t]` is the id the model should predict after `tokens[b,t]`, or `TrainingBatch.ignore` where no loss
///   is taken (prompt tokens, padding, the user's turns).
/// - `segments[b,t]` numbers the packed items within a row (0, 1, 2, …; padding may use any value). Attention is
///   causal *and* block-diagonal: position t attends to t' ≤ t only when both have the same segment, and RoPE
///   positions restart at 0 at the start of each segment, so packed items never see each other.
public struct TrainingBatch: Sendable, Equatable {
    public static let ignore: Int32 = -1
    public var B: Int
    public var T: Int
    public var tokens: [Int32]
    public var targets: [Int32]
    public var segments: [Int32]
    /// Per-position loss weights and objective terms (B,T), set by `TrainingPlan.batch` when an example has a
    /// weight other than 1 or a term other than 0; a plain cross-entropy model ignores them.
    public var weights: [Float]? = nil
    public var terms: [Int32]? = nil
    /// The teacher's top-k for the prediction made at flat position b·T + t (of `targets[b,t]`), for top-k KD.
    public var teacherTopK: [Int: TeacherTopK]? = nil

    public init(B: Int, T: Int, tokens: [Int32], targets: [Int32], segments: [Int32]) {
        self.B = B
        self.T = T
        self.tokens = tokens
        self.targets = targets
        self.segments = segments
    }

    /// How many positions carry a loss.
    public var targetCount: Int { targets.reduce(0) { $1 == Self.ignore ? $0 : $0 + 1 } }
}

/// A named tensor in a trainable model's parameter slab (HF naming, e.g.
/// `model.layers.0.self_attn.q_proj.lora_A.weight` or `model.embed_tokens.weight`).
public struct TrainableTensor: Sendable, Equatable {
    public var name: String
    /// Row-major shape, outermost first ([out, in] for matrices, [n] for vectors).
    public var shape: [Int]
    /// Where the tensor starts in `parameters` / `gradients`.
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// AdamW's decoupled weight decay applies to tensors of two or more dimensions only.
    public var decays: Bool { shape.count >= 2 }

    public init(name: String, shape: [Int], offset: Int) {
        self.name = name
        self.shape = shape
        self.offset = offset
    }
}

/// What the training loop (optimiser, schedule, accumulation, checkpoints, export) needs from a model.
///
/// All trainable values live in one Float32 slab and their gradients in a second slab of the same layout, so the
/// optimiser and the checkpoint treat a LoRA adapter and a full fine-tune the same way. Gradients accumulate (`+=`)
/// across micro-batches until `zeroGradients()`.
public protocol TrainableModel: AnyObject {
    /// The trainable tensors, in a fixed order (the order checkpoints and exports use).
    var tensors: [TrainableTensor] { get }
    /// Every trainable value, `tensors` laid end to end.
    var parameters: UnsafeMutableBufferPointer<Float> { get }
    /// d(loss)/d(parameters), same layout.
    var gradients: UnsafeMutableBufferPointer<Float> { get }
    func zeroGradients()
    /// Forward and backward over one micro-batch: adds `lossScale · d(Σ cross-entropy over target positions)` to
    /// `gradients` and returns the unscaled sum of the cross-entropies and the number of target positions.
    /// The caller normalises by the target tokens of the whole accumulated batch through `lossScale`.
    func accumulateGradients(_ batch: TrainingBatch, lossScale: Float) throws -> (lossSum: Double, targets: Int)
    /// Forward only (validation).
    func evaluate(_ batch: TrainingBatch) throws -> (lossSum: Double, targets: Int)
}
