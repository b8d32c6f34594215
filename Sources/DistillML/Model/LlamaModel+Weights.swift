import Foundation

extension LlamaModel {
    /// One decoder layer's weights as the layer loop reads them: two norms and seven projections.
    struct DecoderLayer {
        var attnNorm: UnsafePointer<Float>  // (C)
        var q, k, v, o: LinearLayer         // (qDim,C) (kvDim,C) (kvDim,C) (C,qDim)
        var ffnNorm: UnsafePointer<Float>   // (C)
        var gate, up, down: LinearLayer     // (H,C) (H,C) (C,H)
    }

    /// Every weight one forward reads, gathered from wherever the model keeps it (fp32 slab, 4/8-bit matrices and
    /// file-backed vectors) with the adapter's LoRA pairs attached.
    struct Weights {
        var layers: [DecoderLayer]
        var finalNorm: UnsafePointer<Float>  // (C)
        var head: LinearLayer                // (V,C)
    }

    /// The weights of this model, or an error when it holds neither fp32 parameters nor a complete 4/8-bit set
    /// (a model loaded without fp32 copies whose `quantized` was then cleared).
    func weights() throws -> Weights {
        let c = config
        func missing(_ kind: LlamaParameters.Kind, _ l: Int) -> DistillMLError {
            DistillMLError(file: "<model>", "no weights for \(kind) in layer \(l): this model was loaded without fp32 "
                + "copies and its 4/8-bit matrices were removed; load it with precision 'exact' to run fp32")
        }
        func vector(_ kind: LlamaParameters.Kind, _ l: Int) throws -> UnsafePointer<Float> {
            if let p = parameters?.pointer(kind, layer: l) { return UnsafePointer(p) }
            if let p = vectors?.pointer(kind, layer: l) { return p }
            throw missing(kind, l)
        }
        func linear(_ kind: LlamaParameters.Kind, _ bias: LlamaParameters.Kind?, _ l: Int) throws -> LinearLayer {
            let (rows, cols) = kind.shape(c)
            let fp32 = kind == .output ? parameters?.head : parameters?.pointer(kind, layer: l)
            let blocks = quantized?.matrix(kind, layer: l)
            guard fp32 != nil || blocks != nil else { throw missing(kind, l) }
            let biasPointer = try bias.flatMap { b in b.present(c) ? try vector(b, l) : nil }
            return LinearLayer(fp32: fp32.map { UnsafePointer($0) }, blocks: blocks, bias: biasPointer,
                               lora: adapter?.pair(kind, layer: l), loraScale: adapter?.scale ?? 0, inDim: cols, outDim: rows)
        }
        var layers: [DecoderLayer] = []
        layers.reserveCapacity(c.layers)
        for l in 0..<c.layers {
            layers.append(DecoderLayer(
                attnNorm: try vector(.attnNorm, l),
                q: try linear(.wq, .bq, l), k: try linear(.wk, .bk, l), v: try linear(.wv, .bv, l), o: try linear(.wo, nil, l),
                ffnNorm: try vector(.ffnNorm, l),
                gate: try linear(.wGate, nil, l), up: try linear(.wUp, nil, l), down: try linear(.wDown, nil, l)))
        }
        var head = try linear(.output, nil, 0)
        head.lora = nil
        return Weights(layers: layers, finalNorm: try vector(.finalNorm, 0), head: head)
    }

    /// Writes the embedding row of `token` (C floats) to `dst`: from the fp32 slab, or decoded from the file.
    func embed(_ token: Int, into dst: UnsafeMutablePointer<Float>) {
        if let p = parameters?.pointer(.tokenEmbedding) {
            dst.update(from: p + token * config.dim, count: config.dim)
        } else {
            vectors?.embed(token, into: dst)
        }
    }
}
