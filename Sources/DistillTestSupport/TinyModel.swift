import DistillML
import Foundation

/// A tiny random Llama-architecture model with a real byte-level BPE tokenizer and a ChatML template, written as a
/// GGUF by the engine's own writer: the whole generate/serve path runs on it in milliseconds. Its answers are noise,
/// but deterministic noise: the same seed gives the same file and the same greedy text.
public enum TinyModel {
    /// dim 64, 2 layers, 4 heads / 2 KV heads (GQA), SwiGLU 128, context 256, tied head; vocab 261.
    public static let config = LlamaConfig(architecture: "llama", layers: 2, dim: 64, hiddenDim: 128, heads: 4, kvHeads: 2,
                                           vocabSize: 261, contextLength: 256, ropeTheta: 10_000, rmsNormEps: 1e-5)

    /// `<|endoftext|>` 0, `<|im_start|>` 1, `<|im_end|>` 2 (EOS), then the 256 GPT-2 byte tokens, then "Ġt" and "he".
    public static var tokens: [String] {
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + byteTokens + ["Ġt", "he"]
    }

    /// The GPT-2 `bytes_to_unicode` table: printable bytes map to themselves, the rest to U+0100 onwards.
    static var byteTokens: [String] {
        var next = 256
        return (0..<256).map { b in
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                return String(UnicodeScalar(UInt8(b)))
            }
            defer { next += 1 }
            return String(Character(Unicode.Scalar(UInt32(next)) ?? "?"))
        }
    }

    static let chatTemplate = """
        {% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}\
        {% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    /// Writes the model to `path` (F32 weights, or `type` for its matrices) and returns its parameters.
    @discardableResult
    public static func writeGGUF(to path: String, seed: UInt64 = 1, type: GGMLType = .f32) throws -> LlamaParameters {
        let p = LlamaParameters(config: config)
        p.randomize(seed: seed, scale: 0.3)
        let toks = tokens
        let types = toks.indices.map { $0 < 3 ? 3 : 1 }
        try p.writeGGUF(to: path, type: type, extraMetadata: [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("smollm")),
            ("tokenizer.ggml.tokens", .array(.string, toks.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(.int32, types.map { .int32(Int32($0)) })),
            ("tokenizer.ggml.merges", .array(.string, [.string("Ġ t"), .string("h e")])),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.padding_token_id", .uint32(2)),
            ("tokenizer.chat_template", .string(chatTemplate)),
        ])
        return p
    }
}
