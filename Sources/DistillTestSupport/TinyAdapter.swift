import DistillData
import DistillML
import Foundation

/// A PEFT LoRA adapter for `TinyModel` on all seven projections, with seeded non-zero A and B (so it changes the
/// model's answers), written by the engine's own writer.
public enum TinyAdapter {
    @discardableResult
    public static func write(to dir: String, seed: UInt64, rank r: Int = 4, alpha: Double = 8,
                             baseModel: String = "tiny") throws -> PEFTAdapter {
        let c = TinyModel.config
        var rng = SplitMix64(seed: seed)
        func noise(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in scale * (Float(rng.nextUnit()) * 2 - 1) } }
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        let modules: [(String, String, LlamaParameters.Kind)] = [("self_attn", "q_proj", .wq), ("self_attn", "k_proj", .wk),
            ("self_attn", "v_proj", .wv), ("self_attn", "o_proj", .wo), ("mlp", "gate_proj", .wGate), ("mlp", "up_proj", .wUp),
            ("mlp", "down_proj", .wDown)]
        for l in 0..<c.layers {
            for (block, module, kind) in modules {
                let (rows, cols) = kind.shape(c)
                let prefix = "base_model.model.model.layers.\(l).\(block).\(module)"
                tensors[prefix + ".lora_A.weight"] = ([r, cols], noise(r * cols, 0.2))
                tensors[prefix + ".lora_B.weight"] = ([rows, r], noise(rows * r, 0.2))
            }
        }
        let adapter = PEFTAdapter(config: .init(r: r, alpha: alpha, dropout: 0, targetModules: modules.map(\.1), baseModel: baseModel),
                                  tensors: tensors)
        try adapter.write(to: dir)
        return adapter
    }
}
