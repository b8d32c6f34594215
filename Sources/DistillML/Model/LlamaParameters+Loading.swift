import Foundation

extension LlamaParameters {
    /// Loads (dequantising to Float32) from a GGUF file. llama q/k rows are un-permuted to HF order, because
    /// convert_hf_to_gguf permutes them for ggml's adjacent-pair RoPE and this engine rotates (i, i+d/2) pairs.
    public convenience init(gguf f: GGUFFile) throws {
        try self.init(config: LlamaConfig(gguf: f))
        for (kind, l) in entries {
            let name = kind.ggufName(layer: l)
            guard let info = f.tensor(named: name) else {
                throw DistillMLError(file: f.path, at: "tensor '\(name)'", "missing from a \(config.architecture) model")
            }
            let (rows, cols) = kind.shape(config)
            let want = rows == 1 ? [cols] : [cols, rows]
            guard info.dims == want else {
                throw DistillMLError(file: f.path, at: "tensor '\(name)'", "shape \(info.dims), expected \(want) from the metadata")
            }
            let values = try GGMLDequantize.tensor(info, in: f)
            let dst = view(kind, l)
            values.withUnsafeBufferPointer { src in
                if config.architecture == "llama" && (kind == .wq || kind == .wk) {
                    Self.unpermuteRows(dst, src.baseAddress!, heads: kind == .wq ? config.heads : config.kvHeads,
                                       headDim: config.headDim, cols: cols)
                } else {
                    dst.update(from: src.baseAddress!, count: src.count)
                }
            }
        }
    }

    /// Loads from HF safetensors (one file, or the shards listed in `model.safetensors.index.json`) plus `config.json`.
    public convenience init(huggingFaceDirectory dir: String) throws {
        let config = try LlamaConfig(hfConfigPath: dir + "/config.json")
        var files: [SafetensorsFile] = []
        let index = dir + "/model.safetensors.index.json"
        if FileManager.default.fileExists(atPath: index) {
            let data = try Data(contentsOf: URL(fileURLWithPath: index))
            guard let map = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["weight_map"] as? [String: String] else {
                throw DistillMLError(file: index, at: "field 'weight_map'", "missing or not an object of name → file")
            }
            files = try Set(map.values).sorted().map { try SafetensorsFile(path: dir + "/" + $0) }
        } else {
            files = [try SafetensorsFile(path: dir + "/model.safetensors")]
        }
        try self.init(config: config, safetensors: files)
    }

    convenience init(config: LlamaConfig, safetensors files: [SafetensorsFile]) throws {
        self.init(config: config)
        for (kind, l) in entries {
            let name = kind.hfName(layer: l)
            guard let (file, info) = files.lazy.compactMap({ f in f.tensors[name].map { (f, $0) } }).first else {
                throw DistillMLError(file: files.first?.path ?? "safetensors", at: "tensor '\(name)'", "missing")
            }
            let (rows, cols) = kind.shape(config)
            let want = rows == 1 ? [cols] : [rows, cols]
            guard info.shape == want else {
                throw DistillMLError(file: file.path, at: "tensor '\(name)'", "shape \(info.shape), expected \(want) from config.json")
            }
            try file.read(info, into: view(kind, l))
        }
    }

    /// HF row h·hd + j·hd/2 + i  <-  GGUF row h·hd + 2i + j (inverse of convert_hf_to_gguf `LlamaModel.permute`).
    static func unpermuteRows(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, heads: Int, headDim: Int, cols: Int) {
        let half = headDim / 2
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    (dst + (h * headDim + j * half + i) * cols).update(from: src + (h * headDim + 2 * i + j) * cols, count: cols)
                }
            }
        }
    }

    /// GGUF row h·hd + 2i + j  <-  HF row h·hd + j·hd/2 + i (convert_hf_to_gguf `LlamaModel.permute`).
    static func permuteRows(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, heads: Int, headDim: Int, cols: Int) {
        let half = headDim / 2
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    (dst + (h * headDim + 2 * i + j) * cols).update(from: src + (h * headDim + j * half + i) * cols, count: cols)
                }
            }
        }
    }
}
