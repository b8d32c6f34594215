import DistillData
import Foundation

/// A LoRA adapter as the GGUF file llama.cpp's `--lora` loads (the format convert_lora_to_gguf.py writes).
///
/// Metadata: `general.architecture` (the base's), `general.type` = "adapter", `adapter.type` = "lora",
/// `adapter.lora.alpha`. Tensors: `blk.N.attn_q.weight.lora_a` with ggml dims [in, r] (PEFT's A [r, in]) and
/// `….lora_b` with dims [r, out] (PEFT's B [out, r]), F32. For llama, B's rows of attn_q/attn_k go through the same
/// RoPE-pairing permutation as the base weights (convert_hf_to_gguf `LlamaModel.permute` applied to lora_B), so
/// W_gguf + s·B_gguf·A equals the permuted W + s·B·A. llama.cpp checks that A's ne[0] and B's ne[1] match the base.
extension PEFTAdapter {
    /// One LoRA pair resolved to the base model's projection.
    struct Pair {
        var kind: LlamaParameters.Kind
        var layer: Int
        var a: (shape: [Int], values: [Float])
        var b: (shape: [Int], values: [Float])
    }

    /// Every lora_A/lora_B pair, sorted by name, checked against `config`'s shapes; `adapterName` and `baseName`
    /// name the two in errors (an adapter trained on another base is refused, naming both).
    func pairs(fitting config: LlamaConfig, adapterName: String, baseName: String) throws -> [Pair] {
        let names = tensors.keys.filter { $0.hasSuffix(".lora_A.weight") }.sorted()
        guard !names.isEmpty else { throw DataError(file: adapterName, "adapter_model.safetensors holds no lora_A tensor") }
        var out: [Pair] = []
        for aName in names {
            let prefix = String(aName.dropLast(".lora_A.weight".count))
            let bName = prefix + ".lora_B.weight"
            guard let a = tensors[aName], let b = tensors[bName] else {
                throw DataError(file: adapterName, field: aName, "has no matching \(bName)")
            }
            // …layers.{i}.{self_attn|mlp}.{module}
            let parts = prefix.split(separator: ".")
            guard let li = parts.firstIndex(of: "layers"), li + 1 < parts.count, let layer = Int(parts[li + 1]),
                  let module = parts.last, let kind = Self.kinds[String(module)] else {
                throw DataError(file: adapterName, field: aName, "is not a LoRA on a Llama projection (q/k/v/o/gate/up/down_proj)")
            }
            let (rows, cols) = kind.shape(config)
            let (rA, rB) = (a.shape.first ?? 0, b.shape.count == 2 ? b.shape[1] : 0)
            guard layer >= 0, layer < config.layers, a.shape.count == 2, b.shape.count == 2, a.shape[1] == cols,
                  b.shape[0] == rows, rA == rB, rA > 0,
                  a.values.count == a.shape[0].multipliedReportingOverflow(by: a.shape[1]).partialValue,
                  b.values.count == b.shape[0].multipliedReportingOverflow(by: b.shape[1]).partialValue else {
                throw DataError(file: adapterName, field: aName,
                    "shape A \(a.shape), B \(b.shape) on layer \(layer) does not fit \(baseName) (\(config.layers) layers, "
                    + "\(module) is [\(rows), \(cols)]): the adapter was trained on another base model (\(self.config.baseModel))")
            }
            out.append(Pair(kind: kind, layer: layer, a: a, b: b))
        }
        return out
    }

    /// Writes the adapter as a llama.cpp GGUF LoRA file for a base with `config` (its architecture, shapes and
    /// head layout). `name` goes into `general.name`.
    public func writeGGUF(to path: String, base config: LlamaConfig, name: String = "distill LoRA adapter",
                          adapterName: String = "<adapter>", baseName: String = "<base>") throws {
        let pairs = try pairs(fitting: config, adapterName: adapterName, baseName: baseName)
        var w = GGUFWriter()
        w.set("general.architecture", .string(config.architecture))
        w.set("general.type", .string("adapter"))
        w.set("general.name", .string(name))
        w.set("general.file_type", .uint32(0)) // ALL_F32
        w.set("adapter.type", .string("lora"))
        w.set("adapter.lora.alpha", .float32(Float(self.config.alpha)))
        // In PEFT's name order (layers.0, layers.1, layers.10, …), as convert_lora_to_gguf.py writes them.
        for p in pairs {
            let (rows, cols) = p.kind.shape(config)
            let r = p.a.shape[0]
            var b = p.b.values
            if config.architecture == "llama" && (p.kind == .wq || p.kind == .wk) {
                let src = b
                src.withUnsafeBufferPointer { s in
                    b.withUnsafeMutableBufferPointer { d in
                        LlamaParameters.permuteRows(d.baseAddress!, s.baseAddress!, heads: p.kind == .wq ? config.heads : config.kvHeads,
                                                    headDim: config.headDim, cols: r)
                    }
                }
            }
            let base = p.kind.ggufName(layer: p.layer)
            try w.addTensor(base + ".lora_a", dims: [cols, r], values: p.a.values)
            try w.addTensor(base + ".lora_b", dims: [r, rows], values: b)
        }
        try w.write(to: path)
    }
}
