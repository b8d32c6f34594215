/// What a LoRA adapter trains (PEFT `LoraConfig`): rank r, alpha (scale alpha/r), dropout on its input, and which of
/// the seven projections carry one. A is drawn from `seed` (PEFT's kaiming-uniform bound 1/sqrt(in)); B starts at 0.
public struct LoRAConfiguration: Sendable, Equatable, Codable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    public var targets: [LoRATarget]
    public var seed: UInt64

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: [LoRATarget] = LoRATarget.allCases, seed: UInt64 = 0) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.seed = seed
    }

    /// PEFT's `scaling` (no rsLoRA: llama.cpp ignores it).
    public var scale: Float { alpha / Float(rank) }
}

/// A projection LoRA can adapt, named as PEFT's `target_modules` names it.
public enum LoRATarget: String, CaseIterable, Sendable, Codable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj", gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// The base weight it adapts.
    public var kind: LlamaParameters.Kind {
        switch self {
        case .q: .wq
        case .k: .wk
        case .v: .wv
        case .o: .wo
        case .gate: .wGate
        case .up: .wUp
        case .down: .wDown
        }
    }

    /// PEFT's tensor name of this target's A (`which` "A") or B matrix in layer `layer`, e.g.
    /// `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`.
    public func peftName(layer: Int, _ which: String) -> String {
        "base_model.model." + kind.hfName(layer: layer).dropLast(".weight".count) + ".lora_\(which).weight"
    }
}
