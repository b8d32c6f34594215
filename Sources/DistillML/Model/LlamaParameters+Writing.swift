import Foundation

extension LlamaParameters {
    /// Writes a GGUF with the llama.cpp names and hyper-parameter keys; matrices as `type` (F32, F16, BF16 or Q8_0),
    /// norms and biases as F32 (as llama.cpp does). llama q/k rows are permuted back to the GGUF convention.
    /// `extraMetadata` (e.g. the tokenizer keys copied from the source file) is written after the hyper-parameters.
    public func writeGGUF(to path: String, type: GGMLType = .f32, extraMetadata: [(String, GGUFValue)] = []) throws {
        let c = config
        let a = c.architecture
        var w = GGUFWriter()
        w.set("general.architecture", .string(a))
        // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q4_1 3, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
        w.set("general.file_type", .uint32(type == .f32 ? 0 : type == .f16 ? 1 : type == .q4_0 ? 2 : type == .q4_1 ? 3 : type == .q8_0 ? 7 : 32))
        if type != .f32 && type != .f16 && type != .bf16 { w.set("general.quantization_version", .uint32(2)) }
        w.set("\(a).block_count", .uint32(UInt32(c.layers)))
        w.set("\(a).context_length", .uint32(UInt32(c.contextLength)))
        w.set("\(a).embedding_length", .uint32(UInt32(c.dim)))
        w.set("\(a).feed_forward_length", .uint32(UInt32(c.hiddenDim)))
        w.set("\(a).attention.head_count", .uint32(UInt32(c.heads)))
        w.set("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeads)))
        w.set("\(a).attention.key_length", .uint32(UInt32(c.headDim)))
        w.set("\(a).attention.value_length", .uint32(UInt32(c.headDim)))
        w.set("\(a).rope.dimension_count", .uint32(UInt32(c.headDim)))
        w.set("\(a).rope.freq_base", .float32(c.ropeTheta))
        w.set("\(a).attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps))
        w.set("\(a).vocab_size", .uint32(UInt32(c.vocabSize)))
        for (k, v) in extraMetadata where !k.hasPrefix("general.") && !k.hasPrefix("\(a).") { w.set(k, v) }
        if let factors = c.ropeFreqFactors {
            try w.addTensor("rope_freqs.weight", dims: [factors.count], values: factors)
        }
        for (kind, l) in entries {
            let (rows, cols) = kind.shape(c)
            var values = self.values(kind, layer: l)
            if a == "llama" && (kind == .wq || kind == .wk) {
                let src = values
                src.withUnsafeBufferPointer { s in
                    values.withUnsafeMutableBufferPointer { d in
                        Self.permuteRows(d.baseAddress!, s.baseAddress!, heads: kind == .wq ? c.heads : c.kvHeads, headDim: c.headDim, cols: cols)
                    }
                }
            }
            let blocked = type == .q8_0 || type == .q4_0 || type == .q4_1
            let matrixType = rows > 1 && (!blocked || cols % 32 == 0) ? type : .f32
            try w.addTensor(kind.ggufName(layer: l), dims: rows == 1 ? [cols] : [cols, rows], values: values, as: matrixType)
        }
        try w.write(to: path)
    }

    /// Writes `model.safetensors` (F32, HF names and orientation) and `config.json` into `directory`.
    public func writeHuggingFace(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var w = SafetensorsWriter()
        for (kind, l) in entries {
            let (rows, cols) = kind.shape(config)
            w.add(kind.hfName(layer: l), shape: rows == 1 ? [cols] : [rows, cols], values: values(kind, layer: l))
        }
        try w.write(to: directory + "/model.safetensors")
        let json = try JSONSerialization.data(withJSONObject: try config.hfConfigJSON(), options: [.prettyPrinted, .sortedKeys])
        try json.write(to: URL(fileURLWithPath: directory + "/config.json"), options: .atomic)
    }
}
