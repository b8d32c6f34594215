import DistillData
import Foundation

/// All weights of a Llama-family model in one Float32 allocation with named views (llm.c `ParameterTensors`).
///
/// Matrices are row-major [out, in] (HF orientation, which is also GGUF's memory order). Per-layer tensors of one
/// kind are stacked: `wq` is (L, qDim, C) and `wq(l)` points at layer l. q/k rows are always in HF order (RoPE pairs
/// (i, i+d/2)); the GGUF loader un-permutes llama q/k to get there. The same layout will hold gradients.
public final class LlamaParameters: @unchecked Sendable {
    // @unchecked: the slab is written only while loading (or by an optimizer that owns the model exclusively).
    public let config: LlamaConfig
    public let count: Int
    let base: UnsafeMutablePointer<Float>
    private let offsets: [Kind: Int]

    /// The kinds of parameter tensor, with their shapes and their names in GGUF and HF files (the one mapping).
    public enum Kind: CaseIterable, Sendable {
        case tokenEmbedding, attnNorm, wq, wk, wv, bq, bk, bv, wo, ffnNorm, wGate, wUp, wDown, finalNorm, output

        public var perLayer: Bool { ![.tokenEmbedding, .finalNorm, .output].contains(self) }

        /// (rows, columns) of one layer's tensor; 1-D tensors have rows == 1.
        public func shape(_ c: LlamaConfig) -> (rows: Int, cols: Int) {
            switch self {
            case .tokenEmbedding, .output: (c.vocabSize, c.dim)
            case .attnNorm, .ffnNorm, .finalNorm: (1, c.dim)
            case .wq: (c.qDim, c.dim)
            case .wk, .wv: (c.kvDim, c.dim)
            case .bq: (1, c.qDim)
            case .bk, .bv: (1, c.kvDim)
            case .wo: (c.dim, c.qDim)
            case .wGate, .wUp: (c.hiddenDim, c.dim)
            case .wDown: (c.dim, c.hiddenDim)
            }
        }

        public func present(_ c: LlamaConfig) -> Bool {
            switch self {
            case .bq, .bk, .bv: c.attentionBias
            case .output: !c.tiedEmbeddings
            default: true
            }
        }

        public func ggufName(layer l: Int) -> String {
            switch self {
            case .tokenEmbedding: "token_embd.weight"
            case .finalNorm: "output_norm.weight"
            case .output: "output.weight"
            case .attnNorm: "blk.\(l).attn_norm.weight"
            case .wq: "blk.\(l).attn_q.weight"
            case .wk: "blk.\(l).attn_k.weight"
            case .wv: "blk.\(l).attn_v.weight"
            case .bq: "blk.\(l).attn_q.bias"
            case .bk: "blk.\(l).attn_k.bias"
            case .bv: "blk.\(l).attn_v.bias"
            case .wo: "blk.\(l).attn_output.weight"
            case .ffnNorm: "blk.\(l).ffn_norm.weight"
            case .wGate: "blk.\(l).ffn_gate.weight"
            case .wUp: "blk.\(l).ffn_up.weight"
            case .wDown: "blk.\(l).ffn_down.weight"
            }
        }

        public func hfName(layer l: Int) -> String {
            let p = "model.layers.\(l)."
            switch self {
            case .tokenEmbedding: return "model.embed_tokens.weight"
            case .finalNorm: return "model.norm.weight"
            case .output: return "lm_head.weight"
            case .attnNorm: return p + "input_layernorm.weight"
            case .wq: return p + "self_attn.q_proj.weight"
            case .wk: return p + "self_attn.k_proj.weight"
            case .wv: return p + "self_attn.v_proj.weight"
            case .bq: return p + "self_attn.q_proj.bias"
            case .bk: return p + "self_attn.k_proj.bias"
            case .bv: return p + "self_attn.v_proj.bias"
            case .wo: return p + "self_attn.o_proj.weight"
            case .ffnNorm: return p + "post_attention_layernorm.weight"
            case .wGate: return p + "mlp.gate_proj.weight"
            case .wUp: return p + "mlp.up_proj.weight"
            case .wDown: return p + "mlp.down_proj.weight"
            }
        }
    }

    /// Allocates zeroed parameters for `config`, without the kinds in `omitting` (their `pointer` is nil: a QLoRA
    /// base keeps its projections in 4/8-bit blocks instead).
    public init(config: LlamaConfig, omitting: Set<Kind> = []) {
        self.config = config
        var offsets: [Kind: Int] = [:]
        var total = 0
        for kind in Kind.allCases where kind.present(config) && !omitting.contains(kind) {
            offsets[kind] = total
            let (r, c) = kind.shape(config)
            total += r * c * (kind.perLayer ? config.layers : 1)
        }
        self.offsets = offsets
        count = total
        base = .allocate(capacity: max(total, 1))
        base.initialize(repeating: 0, count: max(total, 1))
    }

    deinit { base.deallocate() }

    public func elementCount(_ kind: Kind) -> Int {
        let (r, c) = kind.shape(config)
        return r * c
    }

    /// The view of `kind` for layer `layer` (ignored for whole-model tensors); nil when absent (bias, untied head).
    public func pointer(_ kind: Kind, layer: Int = 0) -> UnsafeMutablePointer<Float>? {
        guard let o = offsets[kind] else { return nil }
        return base + o + (kind.perLayer ? layer * elementCount(kind) : 0)
    }

    /// A present tensor's view; callers have checked `present`.
    func view(_ kind: Kind, _ layer: Int = 0) -> UnsafeMutablePointer<Float> {
        guard let p = pointer(kind, layer: layer) else { preconditionFailure("parameter \(kind) is absent in this model") }
        return p
    }

    /// The output head: `output` when separate, else the tied token embedding.
    var head: UnsafeMutablePointer<Float> { pointer(.output) ?? view(.tokenEmbedding) }

    /// Every (kind, layer) present in this model (omitted kinds left out), in file order.
    public var entries: [(kind: Kind, layer: Int)] { Self.entries(of: config).filter { offsets[$0.kind] != nil } }

    /// Whether every tensor of the model is held here (none omitted).
    public var isComplete: Bool { Self.entries(of: config).allSatisfy { offsets[$0.kind] != nil } }

    /// Every (kind, layer) a model of `config` has, in file order.
    static func entries(of config: LlamaConfig) -> [(kind: Kind, layer: Int)] {
        var out: [(Kind, Int)] = []
        for kind in Kind.allCases where kind.present(config) && !kind.perLayer && kind != .output && kind != .finalNorm {
            out.append((kind, 0))
        }
        for l in 0..<config.layers {
            for kind in Kind.allCases where kind.present(config) && kind.perLayer { out.append((kind, l)) }
        }
        for kind in [Kind.finalNorm, .output] where kind.present(config) { out.append((kind, 0)) }
        return out
    }

    /// Copies of one tensor's values (tests, writers).
    public func values(_ kind: Kind, layer: Int = 0) -> [Float] {
        guard let p = pointer(kind, layer: layer) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: elementCount(kind)))
    }

    /// Fills every parameter with seeded uniform noise of ±scale (norm weights around 1): tiny test models.
    public func randomize(seed: UInt64, scale: Float = 0.1) {
        var rng = SplitMix64(seed: seed)
        for (kind, l) in entries {
            let p = view(kind, l)
            let isNorm = kind == .attnNorm || kind == .ffnNorm || kind == .finalNorm
            for i in 0..<elementCount(kind) {
                let u = Float(rng.nextUnit()) * 2 - 1
                p[i] = isNorm ? 1 + 0.2 * u : scale * u
            }
        }
    }
}
