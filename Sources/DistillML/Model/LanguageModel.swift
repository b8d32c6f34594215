import DistillData
import Foundation

/// A model ready to chat: weights, tokenizer and chat template, loaded from a GGUF file or an HF directory
/// (`config.json`, `model.safetensors`, `tokenizer.json`).
public final class LanguageModel {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    /// Token ids that end an assistant turn (EOS, `<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, `<|end|>`).
    public private(set) var endTokens: Set<Int>
    /// The chat format prompts are rendered in: the model file's own, or one the user named (`useChatTemplate`).
    public private(set) var chatTemplate: ChatTemplate

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

    /// The precision in use: the one asked for, or `.exact` when this model's matrices cannot be quantised.
    public let precision: Precision
    /// Set when the precision asked for could not be used: one sentence saying why and what runs instead.
    public let precisionNote: String?

    /// - Parameter precision: `.exact` keeps only fp32 weights; the others also keep 4/8-bit weights for the passes
    ///   with few rows (decode steps), leaving prefill of long prompts to fp32 sgemm. A model whose matrix rows
    ///   are not whole 32-value blocks (hidden size 48) runs `.exact` instead, and `precisionNote` says so.
    /// - Parameter adapter: a PEFT LoRA adapter folder, merged into the weights at load (W + (alpha/r)·B·A); the
    ///   4/8-bit paths then run on the merged weights re-quantised to Q8_0, not on the file's blocks.
    public init(path: String, precision requested: Precision = .fastest, adapter: String? = nil) throws {
        guard requested != .int8 || QuantizedLinears.int8Available else {
            throw DistillMLError(file: path, "int8 activations need an x86-64 AVX2 build; use precision 'weights' or 'exact'")
        }
        var precision = requested
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DistillMLError(file: path, FileChecks.missing(path).replacingOccurrences(of: "no such file", with: "no such model file or directory"))
        }
        if isDirectory.boolValue {
            let parameters = try LlamaParameters(huggingFaceDirectory: path)
            if let adapter { try PEFTAdapter.read(adapter).merge(into: parameters, baseName: path, adapterName: adapter) }
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(tokenizerJSONAt: path + "/tokenizer.json")
            precisionNote = Self.fallback(&precision, parameters.config)
            if let activations = precision.activations { model.quantized = QuantizedLinears(q8From: parameters, activations: activations) }
        } else {
            let file = try GGUFFile(path: path)
            let parameters = try LlamaParameters(gguf: file)
            if let adapter { try PEFTAdapter.read(adapter).merge(into: parameters, baseName: path, adapterName: adapter) }
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(gguf: file)
            precisionNote = Self.fallback(&precision, parameters.config)
            if adapter != nil, let activations = precision.activations {
                model.quantized = QuantizedLinears(q8From: parameters, activations: activations)
            } else if let activations = precision.activations {
                model.quantized = try QuantizedLinears(gguf: file, parameters: parameters, activations: activations)
            }
        }
        self.precision = precision
        // An id past the embedding table would read outside the weights.
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw DistillMLError(file: path, "the tokenizer has \(tokenizer.vocabularySize) token ids but the model's embedding has "
                + "\(model.config.vocabSize) rows: the tokenizer does not belong to these weights")
        }
        chatTemplate = tokenizer.chatTemplate
        endTokens = Set(tokenizer.chatTemplate.stopTokenIDs(in: tokenizer))
    }

    /// Renders prompts in `template` instead of the file's (and stops on its end-of-turn tokens).
    public func useChatTemplate(_ template: ChatTemplate) {
        chatTemplate = template
        endTokens = Set(template.stopTokenIDs(in: tokenizer))
    }

    /// Switches `precision` to `.exact` when the model's matrices cannot be quantised, returning the note to show.
    private static func fallback(_ precision: inout Precision, _ config: LlamaConfig) -> String? {
        guard precision != .exact, let why = QuantizedLinears.unsupportedReason(config) else { return nil }
        defer { precision = .exact }
        return "precision '\(precision.rawValue)' is not available for this model (\(why)); running in 'exact' (fp32) instead"
    }

    /// Token ids of `messages` rendered with the model's chat template, ending with the assistant header.
    public func chatPrompt(_ messages: [(role: String, content: String)]) -> [Int] {
        tokenizer.encode(chatTemplate.render(messages, addGenerationPrompt: true), addSpecial: false)
    }

    /// A generator decoding `slots` sequences together, each up to `capacity` tokens (prompt + continuation). Texts
    /// never end in a partial character (a token limit that cuts one drops its bytes rather than writing U+FFFD).
    public func generator(slots: Int, capacity: Int) -> Generator {
        let tokenizer = self.tokenizer
        return Generator(model: model, slots: slots, capacity: capacity, endTokens: endTokens) {
            tokenizer.decodeComplete($0, skipSpecial: true)
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
