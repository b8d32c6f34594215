import DistillData
import Foundation

/// Loading a model's weights and tokenizer from a GGUF file or an HF folder, and writing trained or pruned weights
/// back in the same family of files, with the source's tokenizer carried over.
public enum ModelFiles {
    /// Whether `path` is an HF folder (config.json + safetensors + tokenizer.json) rather than a GGUF file.
    public static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The weights (Float32, dequantised) and tokenizer of the model at `path`.
    public static func load(_ path: String) throws -> (parameters: LlamaParameters, tokenizer: Tokenizer) {
        guard FileManager.default.fileExists(atPath: path) else { throw DistillMLError(file: path, "no such model file or directory") }
        if isDirectory(path) {
            return (try LlamaParameters(huggingFaceDirectory: path), try Tokenizer(tokenizerJSONAt: path + "/tokenizer.json"))
        }
        let file = try GGUFFile(path: path)
        return (try LlamaParameters(gguf: file), try Tokenizer(gguf: file))
    }

    /// A QLoRA base: the GGUF's seven projections kept in their Q4_0/Q4_1/Q8_0 blocks, everything else (embedding,
    /// norms, biases, head) in fp32. Refused, saying why, for a file whose projections are not all such blocks.
    public static func loadQuantizedBase(_ path: String) throws -> (parameters: LlamaParameters, frozen: QuantizedLinears) {
        guard !isDirectory(path) else {
            throw DistillMLError(file: path, "a 4/8-bit base needs a GGUF with Q4_0/Q4_1/Q8_0 projections; this is an HF folder (use --base-precision fp32)")
        }
        let file = try GGUFFile(path: path)
        let config = try LlamaConfig(gguf: file)
        guard QuantizedLinears.fileBlocksCoverEveryMatrix(file, config) else {
            throw DistillMLError(file: path, "its projections are not all Q4_0/Q4_1/Q8_0 blocks (or rows are not whole blocks); "
                + "train on it with --base-precision fp32")
        }
        let frozen = try QuantizedLinears(gguf: file, parameters: nil, activations: .float, includeHead: false)
        let parameters = try LlamaParameters(gguf: file, omitting: Set(QuantizedLinears.linearKinds))
        file.releaseResidentPages()
        return (parameters, frozen)
    }

    /// The tokenizer of the model at `path` alone (cheap: no weights are dequantised).
    public static func tokenizer(_ path: String) throws -> Tokenizer {
        isDirectory(path) ? try Tokenizer(tokenizerJSONAt: path + "/tokenizer.json") : try Tokenizer(ggufAt: path)
    }

    /// The files that identify a model's content, for fingerprints: the GGUF itself, or an HF folder's config,
    /// tokenizer and weight files.
    public static func contentFiles(_ path: String) throws -> [String] {
        guard isDirectory(path) else { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { $0 == "config.json" || $0 == "tokenizer.json" || $0.hasSuffix(".safetensors") }
        return names.map { path + "/" + $0 }
    }

    /// Writes `parameters` as a GGUF at `path` with the tokenizer keys of the GGUF model `source` (the file a
    /// model was trained or pruned from), so llama.cpp and `distill generate` can run it.
    public static func writeGGUF(_ parameters: LlamaParameters, to path: String, type: GGMLType, source: String) throws {
        guard !isDirectory(source) else {
            throw DistillMLError(file: source, "GGUF export needs a GGUF base (its tokenizer is copied); export 'hf' for an HF base")
        }
        let file = try GGUFFile(path: source)
        let extra = file.metadataKeys.filter { $0.hasPrefix("tokenizer.") }.compactMap { k in file.metadata[k].map { (k, $0) } }
        try parameters.writeGGUF(to: path, type: type, extraMetadata: extra)
    }

    /// Writes an HF folder (model.safetensors, config.json) and copies the tokenizer files of an HF `source`.
    public static func writeHuggingFace(_ parameters: LlamaParameters, to directory: String, source: String) throws {
        try parameters.writeHuggingFace(to: directory)
        guard isDirectory(source) else { return }
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"] {
            let from = source + "/" + name, to = directory + "/" + name
            guard FileManager.default.fileExists(atPath: from) else { continue }
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
    }
}
