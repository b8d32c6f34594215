import Foundation

/// What the 4/8-bit path needs beside its matrices when no fp32 copy of the model is kept: the norm weights and
/// q/k/v biases (fp32, a few KB per layer) and the token embedding, decoded a row at a time from the file's own
/// blocks when a token arrives (SmolLM2-135M: 28 MB of Q8_0 rows instead of 113 MB of fp32).
///
/// The decoded values are those `LlamaParameters(gguf:)` would hold (the same `GGMLDequantize` routines).
final class LlamaVectors: @unchecked Sendable {
    // @unchecked: written only in init; the file mapping is read-only.
    let config: LlamaConfig
    private let file: GGUFFile
    private let embedding: GGUFTensorInfo
    private let embeddingRowBytes: Int
    private let store: UnsafeMutablePointer<Float>
    private let offsets: [LlamaParameters.Kind: Int]

    static let kinds: [LlamaParameters.Kind] = [.attnNorm, .ffnNorm, .bq, .bk, .bv, .finalNorm]

    /// Reads the vectors of `config` from `file`, checking each tensor's shape and type first.
    init(gguf file: GGUFFile, config: LlamaConfig) throws {
        self.config = config
        self.file = file
        var infos: [(LlamaParameters.Kind, Int, GGUFTensorInfo)] = []
        var offsets: [LlamaParameters.Kind: Int] = [:]
        var total = 0
        for kind in Self.kinds where kind.present(config) {
            offsets[kind] = total
            let layers = kind.perLayer ? config.layers : 1
            total += kind.shape(config).cols * layers
            for l in 0..<layers { infos.append((kind, l, try Self.info(kind, l, file, config))) }
        }
        let embedding = try Self.info(.tokenEmbedding, 0, file, config)
        self.embedding = embedding
        embeddingRowBytes = embedding.byteCount / max(1, embedding.rowCount)
        self.offsets = offsets
        store = .allocate(capacity: max(total, 1))
        store.initialize(repeating: 0, count: max(total, 1))
        for (kind, l, info) in infos {
            let cols = kind.shape(config).cols
            guard let at = offsets[kind] else { continue }
            GGMLDequantize.row(info.type, file.bytes(of: info).baseAddress!, store + at + (kind.perLayer ? l * cols : 0), count: cols)
        }
    }

    deinit { store.deallocate() }

    /// The tensor `kind` of layer `l`, checked: present, of the metadata's shape, of a type that can be decoded.
    private static func info(_ kind: LlamaParameters.Kind, _ l: Int, _ f: GGUFFile, _ c: LlamaConfig) throws -> GGUFTensorInfo {
        let name = kind.ggufName(layer: l)
        guard let info = f.tensor(named: name) else {
            throw DistillMLError(file: f.path, at: "tensor '\(name)'", "missing from a \(c.architecture) model "
                + "of \(c.layers) layers (the metadata's block_count): the file is incomplete or its metadata wrong")
        }
        let (rows, cols) = kind.shape(c)
        let want = rows == 1 ? [cols] : [cols, rows]
        guard info.dims == want else {
            throw DistillMLError(file: f.path, at: "tensor '\(name)'", "shape \(info.dims), expected \(want) from the metadata")
        }
        guard GGMLDequantize.supported.contains(info.type) else {
            throw DistillMLError(file: f.path, at: "tensor '\(name)'", "cannot dequantise \(info.type)")
        }
        return info
    }

    /// The vector `kind` of `layer` (C or the bias width), nil when the model has none (biases).
    func pointer(_ kind: LlamaParameters.Kind, layer: Int = 0) -> UnsafePointer<Float>? {
        guard let at = offsets[kind] else { return nil }
        return UnsafePointer(store + at + (kind.perLayer ? layer * kind.shape(config).cols : 0))
    }

    /// Writes the embedding row of `token` (C floats) to `dst`; the caller has checked the token is in the vocabulary.
    func embed(_ token: Int, into dst: UnsafeMutablePointer<Float>) {
        let row = file.bytes(of: embedding).baseAddress! + token * embeddingRowBytes
        GGMLDequantize.row(embedding.type, row, dst, count: config.dim)
    }
}
