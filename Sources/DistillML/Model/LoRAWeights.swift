import DistillData
import Foundation

/// A LoRA adapter held apart from its base for inference: per projection and layer, A (r, in) and B (out, r),
/// applied as y = W·x + (alpha/r)·B·(A·x) (Hu et al. 2021) so several adapters can share one base in memory.
public final class LoRAWeights: @unchecked Sendable {
    // @unchecked: the factor arrays are written only in init.
    /// One projection's pair: a (r, inDim), b (outDim, r), both row-major.
    struct Pair {
        var a: UnsafeMutablePointer<Float>
        var b: UnsafeMutablePointer<Float>
        var rank: Int
    }

    struct Key: Hashable {
        var kind: LlamaParameters.Kind
        var layer: Int
    }

    /// The adapter folder it was read from (for messages).
    public let path: String
    public let scale: Float
    let pairs: [Key: Pair]
    /// The largest rank of any pair (scratch for A·x).
    let maxRank: Int

    /// Reads the PEFT adapter in `directory` and checks every pair against `config`; an adapter trained on another
    /// base is refused naming both (`baseName` and the adapter config's `base_model_name_or_path`).
    public convenience init(directory: String, config: LlamaConfig, baseName: String) throws {
        try self.init(PEFTAdapter.read(directory), path: directory, config: config, baseName: baseName)
    }

    init(_ adapter: PEFTAdapter, path: String, config: LlamaConfig, baseName: String) throws {
        self.path = path
        scale = adapter.config.scale
        let names = adapter.tensors.keys.filter { $0.hasSuffix(".lora_A.weight") }.sorted()
        guard !names.isEmpty else { throw DataError(file: path, "adapter_model.safetensors holds no lora_A tensor") }
        var pairs: [Key: Pair] = [:]
        var ok = false
        defer {
            if !ok { for pair in pairs.values { pair.a.deallocate(); pair.b.deallocate() } }
        }
        for aName in names {
            let prefix = String(aName.dropLast(".lora_A.weight".count))
            let bName = prefix + ".lora_B.weight"
            guard let a = adapter.tensors[aName], let b = adapter.tensors[bName] else {
                throw DataError(file: path, field: aName, "has no matching \(bName)")
            }
            // …layers.{i}.{self_attn|mlp}.{module}
            let parts = prefix.split(separator: ".")
            guard let li = parts.firstIndex(of: "layers"), li + 1 < parts.count, let layer = Int(parts[li + 1]),
                  let module = parts.last, let kind = PEFTAdapter.kinds[String(module)] else {
                throw DataError(file: path, field: aName, "is not a LoRA on a Llama projection (q/k/v/o/gate/up/down_proj)")
            }
            let (rows, cols) = kind.shape(config)
            guard (0..<config.layers).contains(layer), a.shape.count == 2, b.shape.count == 2, a.shape[1] == cols,
                  b.shape[0] == rows, a.shape[0] == b.shape[1], a.shape[0] > 0,
                  a.values.count == a.shape[0] * cols, b.values.count == rows * a.shape[0] else {
                throw DataError(file: path, field: aName,
                    "shape A \(a.shape), B \(b.shape) on layer \(layer) does not fit \(baseName) (\(config.layers) layers, "
                    + "\(module) is [\(rows), \(cols)]): the adapter was trained on another base model (\(adapter.config.baseModel))")
            }
            let pa = UnsafeMutablePointer<Float>.allocate(capacity: a.values.count)
            pa.initialize(from: a.values, count: a.values.count)
            let pb = UnsafeMutablePointer<Float>.allocate(capacity: b.values.count)
            pb.initialize(from: b.values, count: b.values.count)
            pairs[Key(kind: kind, layer: layer)] = Pair(a: pa, b: pb, rank: a.shape[0])
        }
        self.pairs = pairs
        maxRank = pairs.values.map(\.rank).max() ?? 0
        ok = true
    }

    deinit {
        for pair in pairs.values {
            pair.a.deallocate()
            pair.b.deallocate()
        }
    }

    func pair(_ kind: LlamaParameters.Kind, layer: Int) -> Pair? { pairs[Key(kind: kind, layer: layer)] }
}
