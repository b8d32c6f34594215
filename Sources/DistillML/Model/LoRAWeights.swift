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
        var pairs: [Key: Pair] = [:]
        var ok = false
        defer {
            if !ok { for pair in pairs.values { pair.a.deallocate(); pair.b.deallocate() } }
        }
        // The same name and shape checks as merging and the GGUF export (an adapter from another base is refused).
        for p in try adapter.pairs(fitting: config, adapterName: path, baseName: baseName) {
            let pa = UnsafeMutablePointer<Float>.allocate(capacity: p.a.values.count)
            pa.initialize(from: p.a.values, count: p.a.values.count)
            let pb = UnsafeMutablePointer<Float>.allocate(capacity: p.b.values.count)
            pb.initialize(from: p.b.values, count: p.b.values.count)
            pairs[Key(kind: p.kind, layer: p.layer)] = Pair(a: pa, b: pb, rank: p.a.shape[0])
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
