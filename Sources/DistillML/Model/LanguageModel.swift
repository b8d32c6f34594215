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

    /// - Parameter precision: `.exact` keeps only fp32 weights; the others keep 4/8-bit weights for the passes
    ///   with few rows (decode steps). From a GGUF whose every matrix is Q4_0/Q4_1/Q8_0 they keep no fp32 copy at
    ///   all (the resident size is then close to the file's): long prefills run sgemm over slices decoded on the
    ///   fly. Otherwise fp32 weights are kept beside them for prefill. A model whose matrix rows are not whole
    ///   32-value blocks (hidden size 48) runs `.exact` instead, and `precisionNote` says so.
    /// - Parameter adapter: a PEFT LoRA adapter folder, applied unmerged (y = W·x + (alpha/r)·B·(A·x)) over whichever
    ///   weights the precision runs; an adapter trained on another base is refused naming both.
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
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(tokenizerJSONAt: path + "/tokenizer.json")
            precisionNote = Self.fallback(&precision, parameters.config)
            if let activations = precision.activations { model.quantized = QuantizedLinears(q8From: parameters, activations: activations) }
        } else {
            let file = try GGUFFile(path: path)
            let config = try LlamaConfig(gguf: file)
            precisionNote = Self.fallback(&precision, config)
            if let activations = precision.activations, QuantizedLinears.fileBlocksCoverEveryMatrix(file, config) {
                // The file's own blocks are all the 4/8-bit path needs: no fp32 copy of the model is made.
                model = LlamaModel(quantized: try QuantizedLinears(gguf: file, parameters: nil, activations: activations),
                                   vectors: try LlamaVectors(gguf: file, config: config))
            } else {
                let parameters = try LlamaParameters(gguf: file)
                model = LlamaModel(parameters: parameters)
                if let activations = precision.activations {
                    model.quantized = try QuantizedLinears(gguf: file, parameters: parameters, activations: activations)
                }
            }
            tokenizer = try Tokenizer(gguf: file)
            // Everything kept was copied out of the mapping (embedding rows are re-read per token): without this the
            // file's pages read while loading would stay counted in the resident size beside their copies.
            file.releaseResidentPages()
        }
        self.precision = precision
        // An id past the embedding table would read outside the weights.
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw DistillMLError(file: path, "the tokenizer has \(tokenizer.vocabularySize) token ids but the model's embedding has "
                + "\(model.config.vocabSize) rows: the tokenizer does not belong to these weights")
        }
        chatTemplate = tokenizer.chatTemplate
        endTokens = Set(tokenizer.chatTemplate.stopTokenIDs(in: tokenizer))
        if let adapter { model.adapter = try LoRAWeights(directory: adapter, config: model.config, baseName: path) }
    }

    /// The same base weights (shared, not copied) under another adapter, or none: several adapters served over one base.
    public func sharingBase(adapter: String?) throws -> LanguageModel {
        let lora = try adapter.map { try LoRAWeights(directory: $0, config: model.config, baseName: path) }
        return LanguageModel(sharing: self, model: model.sharingWeights(adapter: lora))
    }

    private init(sharing base: LanguageModel, model: LlamaModel) {
        path = base.path
        self.model = model
        tokenizer = base.tokenizer
        endTokens = base.endTokens
        chatTemplate = base.chatTemplate
        precision = base.precision
        precisionNote = base.precisionNote
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
