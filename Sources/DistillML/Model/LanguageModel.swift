import Foundation

/// A model ready to chat: weights, tokenizer and chat template, loaded from a GGUF file or an HF directory
/// (`config.json`, `model.safetensors`, `tokenizer.json`).
public final class LanguageModel {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    /// Token ids that end an assistant turn (EOS, `<|im_end|>`, `<|eot_id|>`).
    public let endTokens: Set<Int>

    /// - Parameter quantized: also keep 4/8-bit weights for small-batch decoding (faster; the exact fp32 path is
    ///   used for larger batches and whenever this is false).
    public init(path: String, quantized: Bool = true) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DistillMLError(file: path, "no such model file or directory")
        }
        if isDirectory.boolValue {
            let parameters = try LlamaParameters(huggingFaceDirectory: path)
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(tokenizerJSONAt: path + "/tokenizer.json")
            if quantized { model.quantized = QuantizedLinears(q8From: parameters) }
        } else {
            let file = try GGUFFile(path: path)
            let parameters = try LlamaParameters(gguf: file)
            model = LlamaModel(parameters: parameters)
            tokenizer = try Tokenizer(gguf: file)
            if quantized { model.quantized = try QuantizedLinears(gguf: file, parameters: parameters) }
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
