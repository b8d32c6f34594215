import COpenBLAS
import Foundation

extension TrainableLlama {
    /// The weights to export: in full mode a copy of the trained weights; in LoRA mode the base with each adapted
    /// projection merged, W + scale · B·A (PEFT `merge_and_unload`).
    public func mergedParameters() -> LlamaParameters {
        let merged = LlamaParameters(config: config)
        for (kind, l) in LlamaParameters.entries(of: config) {
            let dst = merged.view(kind, l)
            if let src = base.pointer(kind, layer: l) {
                dst.update(from: src, count: merged.elementCount(kind))
            } else if let m = frozen?.matrix(kind, layer: l) {
                m.dequantize(rows: 0, m.rows, into: dst)  // QLoRA: the frozen blocks' values, as the fp32 loader reads them
            }
        }
        guard let cfg = lora else { return merged }
        let w = parameters.baseAddress!
        for s in loraSlots {
            // W (out,in) += scale · B (out,r) · A (r,in)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(s.outDim), Int32(s.inDim), Int32(cfg.rank),
                        cfg.scale, w + s.b, Int32(cfg.rank), w + s.a, Int32(s.inDim), 1,
                        merged.view(s.target.kind, s.layer), Int32(s.inDim))
        }
        return merged
    }

    /// Sets the LoRA parameters from a PEFT `adapter_model.safetensors` (names and shapes as `tensors` lists them;
    /// every one must be present, with this rank). Full mode: refused.
    public func loadAdapter(_ file: SafetensorsFile) throws {
        guard lora != nil else {
            throw DistillMLError(file: file.path, "this trainer fine-tunes every weight; an adapter loads only into a LoRA trainer")
        }
        for t in tensors {
            guard let info = file.tensors[t.name] else {
                throw DistillMLError(file: file.path, at: "tensor '\(t.name)'",
                    "missing: the adapter does not target the same projections (\(lora?.targets.map(\.rawValue).joined(separator: ", ") ?? ""))")
            }
            guard info.shape == t.shape else {
                throw DistillMLError(file: file.path, at: "tensor '\(t.name)'", "shape \(info.shape), expected \(t.shape) (rank or base differ)")
            }
            try file.read(info, into: parameters.baseAddress! + t.offset)
        }
    }

    /// One trainable tensor's current values (tests, exporters).
    public func values(of tensor: TrainableTensor) -> [Float] {
        Array(UnsafeBufferPointer(start: parameters.baseAddress! + tensor.offset, count: tensor.count))
    }

    /// One trainable tensor's accumulated gradient.
    public func gradient(of tensor: TrainableTensor) -> [Float] {
        Array(UnsafeBufferPointer(start: gradients.baseAddress! + tensor.offset, count: tensor.count))
    }
}
