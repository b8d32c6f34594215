import Foundation

/// A model ready to chat: weights, tokenizer and chat template, loaded from a GGUF file or an HF directory
/// (`config.json`, `model.safetensors`, `tokenizer.json`).
public final class LanguageModel {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    /// Token ids that end an assistant turn (EOS, `<|im_end|>`, `<|eot_id|>`).
    public let endTokens: Set<Int>

    /// Which arithmetic decoding uses.
    public enum Precision: String, Sendable, CaseIterable {
        /// fp32 weights and activations: the path the parity tests check against transformers.
        case exact
        /// The file's 4/8-bit weights against fp32 activations for small batches: logits within ~1e-5 of exact.
        case weights
        /// 4/8-bit weights against int8 activations (llama.cpp's arithmetic): the fastest, logits ~1% off exact.
        case int8

        /// int8 where this build has its kernels (x86-64 with AVX2), else weights.
        public static var fastest: Precision { QuantizedLinears.int8Available ? .int8 : .weights }
    }

    public let precision: Precision

    /// - Parameter precision: `.exact` keeps only fp32 weights; the others also keep 4/8-bit weights for the passes
    ///   with few rows (decode steps), leaving prefill of long prompts to fp32 sgemm.
    /// - Parameter adapter: a PEFT LoRA adapter folder, merged into the weights at load (W + (alpha/r)·B·A); the
    ///   4/8-bit paths then run on the merged weights re-quantised to Q8_0, not on the file's blocks.
    public init(path: String, precision: Precision = .fastest, adapter: String? = nil) throws {
        guard precision != .int8 || QuantizedLinears.int8Available else {
            throw DistillMLError(file: path, "int8 activations need an x86-64 AVX2 build; use precision 'weights' or 'exact'")
        }
        self.precision = precision
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DistillMLError(file: path, "no such model file or directory")
        }
        if isDirectory.boolValue {
            let parameters = try LlamaParameters(huggingFaceDirectory: path)
            if let adapter { try PEFTAdapter.read(adapter).merge(into: parameters, baseName: path, adapterName: adapter) }
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(tokenizerJSONAt: path + "/tokenizer.json")
            if let activations = precision.activations { model.quantized = QuantizedLinears(q8From: parameters, activations: activations) }
        } else {
            let file = try GGUFFile(path: path)
            let parameters = try LlamaParameters(gguf: file)
            if let adapter { try PEFTAdapter.read(adapter).merge(into: parameters, baseName: path, adapterName: adapter) }
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(gguf: file)
            if adapter != nil, let activations = precision.activations {
                model.quantized = QuantizedLinears(q8From: parameters, activations: activations)
            } else if let activations = precision.activations {
                model.quantized = try QuantizedLinears(gguf: file, parameters: parameters, activations: activations)
            }
        }
        endTokens = Set(tokenizer.chatTemplate.stopTokenIDs(in: tokenizer))
    }

    /// Token ids of `messages` rendered with the model's chat template, ending with the assistant header.
    public func chatPrompt(_ messages: [(role: String, content: String)]) -> [Int] {
        tokenizer.encode(tokenizer.chatTemplate.render(messages, addGenerationPrompt: true), addSpecial: false)
    }

    /// A generator decoding `slots` sequences together, each up to `capacity` tokens (prompt + continuation).
    public func generator(slots: Int, capacity: Int) -> Generator {
        let tokenizer = self.tokenizer
        return Generator(model: model, slots: slots, capacity: capacity, endTokens: endTokens) {
            tokenizer.decode($0, skipSpecial: true)
        }
    }
}

extension LanguageModel.Precision {
    var activations: QuantizedActivations? {
        switch self {
        case .exact: nil
        case .weights: .float
        case .int8: .int8
        }
    }
}
