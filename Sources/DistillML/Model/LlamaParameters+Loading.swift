import Foundation

extension LlamaParameters {
    /// Loads (dequantising to Float32) from a GGUF file. llama q/k rows are un-permuted to HF order, because
    /// convert_hf_to_gguf permutes them for ggml's adjacent-pair RoPE and this engine rotates (i, i+d/2) pairs.
    /// `omitting`: kinds not loaded (a QLoRA base keeps its projections as `QuantizedLinears`).
    public convenience init(gguf f: GGUFFile, omitting: Set<Kind> = []) throws {
        let config = try LlamaConfig(gguf: f)
        // Every tensor is checked before the fp32 slab is allocated, so metadata that claims more than the file
        // holds (block_count 100000 in a small file) is an error, not a terabyte allocation. The file's tensors do
        // not overlap (GGUFFile checks), so the slab is at most 4 bytes per element the file stores.
        var infos: [GGUFTensorInfo] = []
        for (kind, l) in Self.entries(of: config) {
            let name = kind.ggufName(layer: l)
            guard let info = f.tensor(named: name) else {
                throw DistillMLError(file: f.path, at: "tensor '\(name)'", "missing from a \(config.architecture) model "
                    + "of \(config.layers) layers (the metadata's block_count): the file is incomplete or its metadata wrong")
            }
            let (rows, cols) = kind.shape(config)
            let want = rows == 1 ? [cols] : [cols, rows]
            guard info.dims == want else {
                throw DistillMLError(file: f.path, at: "tensor '\(name)'", "shape \(info.dims), expected \(want) from the metadata")
            }
            infos.append(info)
        }
        self.init(config: config, omitting: omitting)
        for ((kind, l), info) in zip(Self.entries(of: config), infos) where !omitting.contains(kind) {
            let cols = kind.shape(config).cols
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
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: index)) } catch {
                throw DistillMLError(file: index, "cannot read: \(error.localizedDescription)")
            }
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
        // Shapes and dtypes first, so a config.json that claims more than the weights hold allocates nothing.
        var found: [(SafetensorsFile, SafetensorsFile.TensorInfo)] = []
        for (kind, l) in Self.entries(of: config) {
            let name = kind.hfName(layer: l)
            guard let (file, info) = files.lazy.compactMap({ f in f.tensors[name].map { (f, $0) } }).first else {
                throw DistillMLError(file: files.first?.path ?? "safetensors", at: "tensor '\(name)'",
                    "missing (config.json says \(config.layers) layers): the weights do not match config.json")
            }
            let (rows, cols) = kind.shape(config)
            let want = rows == 1 ? [cols] : [rows, cols]
            guard info.shape == want else {
                throw DistillMLError(file: file.path, at: "tensor '\(name)'", "shape \(info.shape), expected \(want) from config.json")
            }
            guard SafetensorsFile.weightDTypes.contains(info.dtype) else {
                throw DistillMLError(file: file.path, at: "tensor '\(name)'",
                    "dtype \(info.dtype) cannot be read as weights (F32, F16, BF16 can)")
            }
            found.append((file, info))
        }
        self.init(config: config)
        for ((kind, l), (file, info)) in zip(entries, found) {
            try file.read(info, into: view(kind, l))
        }
    }

    /// The GGUF row that holds HF row `r` of a llama q/k matrix: HF row h·hd + j·hd/2 + i is GGUF row h·hd + 2i + j
    /// (convert_hf_to_gguf `LlamaModel.permute` pairs RoPE's two halves as adjacent rows).
    static func ggufRow(ofHFRow r: Int, headDim: Int) -> Int {
        let half = headDim / 2, h = r / headDim, rest = r % headDim
        return h * headDim + 2 * (rest % half) + rest / half
    }

    /// HF rows from GGUF rows (the inverse of `permute`).
    static func unpermuteRows(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, heads: Int, headDim: Int, cols: Int) {
        for r in 0..<(heads * headDim) {
            (dst + r * cols).update(from: src + ggufRow(ofHFRow: r, headDim: headDim) * cols, count: cols)
        }
    }

    /// GGUF rows from HF rows (convert_hf_to_gguf `LlamaModel.permute`).
    static func permuteRows(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, heads: Int, headDim: Int, cols: Int) {
        for r in 0..<(heads * headDim) {
            (dst + ggufRow(ofHFRow: r, headDim: headDim) * cols).update(from: src + r * cols, count: cols)
        }
    }
}
