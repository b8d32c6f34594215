import DistillData
import Foundation

extension LlamaParameters {
    /// A shallower model made of the kept layers, in order (depth pruning, as in "Shortened LLaMA" / the layer-drop
    /// students of DistilBERT): embedding, final norm and head are copied unchanged.
    public func keepingLayers(_ keep: [Int]) throws -> LlamaParameters {
        guard !keep.isEmpty else { throw DistillMLError(file: "--keep-layers", "keep at least one layer") }
        guard keep == keep.sorted(), Set(keep).count == keep.count else {
            throw DistillMLError(file: "--keep-layers", "layers must be increasing and distinct, got \(keep)")
        }
        if let bad = keep.first(where: { $0 < 0 || $0 >= config.layers }) {
            throw DistillMLError(file: "--keep-layers", "layer \(bad) does not exist: the model has layers 0–\(config.layers - 1)")
        }
        var c = config
        c.layers = keep.count
        let out = LlamaParameters(config: c)
        for (kind, l) in out.entries {
            let src = kind.perLayer ? keep[l] : 0
            guard let from = pointer(kind, layer: src), let to = out.pointer(kind, layer: l) else { continue }
            to.update(from: from, count: elementCount(kind))
        }
        return out
    }

    /// Layers 0, k, 2k, … and always the last one (which feeds the head), for `--keep-every K`.
    public static func everyKth(_ k: Int, of layers: Int) -> [Int] {
        guard k > 0, layers > 0 else { return [] }
        var keep = Array(stride(from: 0, to: layers, by: k))
        if keep.last != layers - 1 { keep.append(layers - 1) }
        return keep
    }
}
