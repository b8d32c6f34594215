import DistillML
import Foundation

/// Small valid model files for the readers' fuzz and regression tests: a GGUF, an HF folder (`config.json`,
/// `model.safetensors`, `tokenizer.json`), all with TinyModel's byte-level tokenizer and seeded random weights.
public enum FuzzSeeds {
    /// dim 32, 1 layer, 2 heads / 1 KV head, SwiGLU 64, vocab 261, context 64: a few tens of KB.
    public static let smallConfig = LlamaConfig(architecture: "llama", layers: 1, dim: 32, hiddenDim: 64, heads: 2, kvHeads: 1,
                                                vocabSize: 261, contextLength: 64)

    /// The repository's tiny-llama fixture shape (hidden 48, 6 heads / 2 KV heads of 8, SwiGLU 80, 3 layers) with
    /// TinyModel's vocabulary: rows of 48 are not whole 32-value quantisation blocks.
    public static let hidden48Config = LlamaConfig(architecture: "llama", layers: 3, dim: 48, hiddenDim: 80, heads: 6, kvHeads: 2,
                                                   headDim: 8, vocabSize: 261, contextLength: 128)

    /// Writes a GGUF of `config` with TinyModel's tokenizer and chat template; returns its parameters.
    @discardableResult
    public static func writeGGUF(_ config: LlamaConfig = smallConfig, to path: String, seed: UInt64 = 7,
                                 type: GGMLType = .f32) throws -> LlamaParameters {
        let p = LlamaParameters(config: config)
        p.randomize(seed: seed, scale: 0.3)
        let toks = TinyModel.tokens
        try p.writeGGUF(to: path, type: type, extraMetadata: [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("smollm")),
            ("tokenizer.ggml.tokens", .array(.string, toks.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(.int32, toks.indices.map { .int32($0 < 3 ? 3 : 1) })),
            ("tokenizer.ggml.merges", .array(.string, [.string("Ġ t"), .string("h e")])),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.chat_template", .string(TinyModel.chatTemplate)),
        ])
        return p
    }

    /// A `tokenizer.json` for TinyModel's vocabulary (byte-level BPE, SmolLM2's pre-tokenizer, three added tokens).
    public static func tokenizerJSON() throws -> Data {
        let toks = TinyModel.tokens
        var vocab: [String: Int] = [:]
        for (id, t) in toks.enumerated() where id >= 3 { vocab[t] = id }
        let added: [[String: Any]] = (0..<3).map { ["id": $0, "content": toks[$0], "special": true, "lstrip": false, "rstrip": false] }
        let root: [String: Any] = [
            "version": "1.0",
            "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            ]],
            "post_processor": NSNull(),
            "model": ["type": "BPE", "vocab": vocab, "merges": ["Ġ t", "h e"], "unk_token": NSNull(), "byte_fallback": false],
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }

    /// Writes an HF folder (`config.json`, `model.safetensors`, `tokenizer.json`) of `config` into `directory`.
    public static func writeHuggingFace(_ config: LlamaConfig = smallConfig, to directory: String, seed: UInt64 = 7) throws {
        let p = LlamaParameters(config: config)
        p.randomize(seed: seed, scale: 0.3)
        try p.writeHuggingFace(to: directory)
        try tokenizerJSON().write(to: URL(fileURLWithPath: directory + "/tokenizer.json"))
    }
}
