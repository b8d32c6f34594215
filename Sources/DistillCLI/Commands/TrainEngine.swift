import DistillData
import DistillML
import Foundation

/// Where `distill train` meets the training engine: building the trainable model and exporting what it learnt.
enum TrainEngine {
    static func makeModel(base: LlamaParameters, frozen: QuantizedLinears? = nil, options o: TrainOptions) throws -> TrainableLlama {
        // The loaders already refuse an architecture the engine cannot run, naming the ones it can.
        let mode: TrainableLlama.Mode = o.full ? .full : .lora(LoRAConfiguration(
            rank: o.loraRank, alpha: Float(o.loraAlpha), dropout: Float(o.loraDropout),
            targets: o.loraTargets.compactMap(LoRATarget.init(rawValue:)), seed: o.seed))
        let model = try TrainableLlama(base: base, mode: mode, frozen: frozen)
        model.recomputeAttention = o.recomputeAttention
        model.recomputeLayers = o.recomputeLayers
        return model
    }

    /// The weights to export as a whole model (LoRA merged in).
    static func mergedParameters(_ model: any TrainableModel) throws -> LlamaParameters {
        guard let llama = model as? TrainableLlama else { throw DistillMLError(file: "<train>", "not a Llama model") }
        return llama.mergedParameters()
    }

    /// Writes every `--export` format into the output folder.
    static func export(model: any TrainableModel, options o: TrainOptions, modelPath: String) throws {
        var written: [String] = []
        if o.exports.contains(.peft) || o.exports.contains(.ggufLoRA) {
            let adapter = PEFTAdapter(config: .init(r: o.loraRank, alpha: o.loraAlpha, dropout: o.loraDropout,
                                                    targetModules: o.loraTargets, baseModel: o.model), model: model)
            if o.exports.contains(.peft) {
                try adapter.write(to: o.out + "/adapter")
                written.append("adapter/")
            }
            if o.exports.contains(.ggufLoRA) {
                guard let llama = model as? TrainableLlama else { throw DistillMLError(file: "<train>", "not a Llama model") }
                try adapter.writeGGUF(to: o.out + "/adapter.gguf", base: llama.config,
                                      name: "distill LoRA on \((o.model as NSString).lastPathComponent)", baseName: o.model)
                written.append("adapter.gguf")
            }
        }
        let whole = o.exports.filter { $0 != .peft && $0 != .ggufLoRA }
        if !whole.isEmpty {
            let merged = try mergedParameters(model)
            for e in whole {
                switch e {
                case .ggufF32, .ggufF16, .ggufQ8, .ggufQ4_0, .ggufQ4_1:
                    let type: GGMLType = switch e {
                    case .ggufF32: .f32
                    case .ggufF16: .f16
                    case .ggufQ4_0: .q4_0
                    case .ggufQ4_1: .q4_1
                    default: .q8_0
                    }
                    let name = "model-\(e.rawValue.dropFirst(5)).gguf"
                    try ModelFiles.writeGGUF(merged, to: o.out + "/" + name, type: type, source: modelPath)
                    written.append(name)
                case .hf:
                    try ModelFiles.writeHuggingFace(merged, to: o.out + "/hf", source: modelPath)
                    written.append("hf/")
                case .peft, .ggufLoRA:
                    break
                }
            }
        }
        TrainRun.note("train: exported " + written.joined(separator: ", ") + " to \(o.out)")
    }

    /// `distill train --convert-adapter DIR`: the PEFT adapter in DIR as a llama.cpp GGUF LoRA for base `model`.
    static func convertAdapter(_ directory: String, model: String, to out: String) throws {
        let adapter = try PEFTAdapter.read(directory)
        let path = try ModelStore.resolve(model)
        let config: LlamaConfig = ModelFiles.isDirectory(path)
            ? try LlamaParameters(huggingFaceDirectory: path).config
            : try LlamaConfig(gguf: GGUFFile(path: path))
        try adapter.writeGGUF(to: out, base: config, name: "distill LoRA on \((path as NSString).lastPathComponent)",
                              adapterName: directory, baseName: model)
        TrainRun.note("train: wrote \(out) (\(adapter.tensors.count / 2) LoRA pairs, r \(adapter.config.r), alpha \(adapter.config.alpha)) for \(model)")
    }
}
