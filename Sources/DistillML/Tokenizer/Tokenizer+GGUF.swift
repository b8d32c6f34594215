import Foundation

extension Tokenizer {
    /// Loads the tokenizer a GGUF file carries (`tokenizer.ggml.*`, `tokenizer.chat_template`).
    ///
    /// Only byte-level BPE (`tokenizer.ggml.model == "gpt2"`) is supported. The pre-tokenizer is the one
    /// `tokenizer.ggml.pre` names, as llama.cpp runs it: for SmolLM2 (`smollm`) digits are isolated first,
    /// as in the model's own `tokenizer.json`. transformers' GGUF loader ignores that key and uses plain
    /// GPT-2 splitting; pass `preTokenizer: .gpt2` to reproduce it (the two differ around digits after
    /// whitespace). Control (3) and user-defined (4) tokens are split out of text before BPE.
    public convenience init(gguf: GGUFFile, preTokenizer: PreTokenizerKind? = nil) throws {
        let file = gguf.path
        guard let model = gguf.string("tokenizer.ggml.model") else {
            throw TokenizerError.malformed(file, field: "tokenizer.ggml.model", "missing: this GGUF carries no tokenizer")
        }
        guard model == "gpt2" else {
            throw TokenizerError.unsupported(file, field: "tokenizer.ggml.model",
                                             "'\(model)' tokenizers are not supported; only byte-level BPE ('gpt2')")
        }
        guard let tokens = gguf.stringArray("tokenizer.ggml.tokens"), !tokens.isEmpty else {
            throw TokenizerError.malformed(file, field: "tokenizer.ggml.tokens", "missing or not an array of strings")
        }
        let types = gguf.intArray("tokenizer.ggml.token_type") ?? [Int](repeating: 1, count: tokens.count)
        guard types.count == tokens.count else {
            throw TokenizerError.malformed(file, field: "tokenizer.ggml.token_type",
                                           "\(types.count) types for \(tokens.count) tokens; the file is corrupt")
        }
        guard let mergeLines = gguf.stringArray("tokenizer.ggml.merges") else {
            throw TokenizerError.malformed(file, field: "tokenizer.ggml.merges", "missing or not an array of strings")
        }
        let preName = gguf.string("tokenizer.ggml.pre") ?? "default"
        guard let pre = preTokenizer ?? PreTokenizerKind(ggufName: preName) else {
            throw TokenizerError.unsupported(file, field: "tokenizer.ggml.pre",
                "pre-tokenizer '\(preName)' is not implemented (supported: gpt2, smollm, llama-bpe, qwen2)")
        }

        var d = TokenizerDefinition()
        d.tokens = tokens
        d.merges.reserveCapacity(mergeLines.count)
        for (i, line) in mergeLines.enumerated() {
            // llama.cpp splits at the first space after the first character.
            guard let space = line.dropFirst().firstIndex(of: " ") else {
                throw TokenizerError.malformed(file, field: "tokenizer.ggml.merges[\(i)]", "'\(line)' is not 'left right'")
            }
            d.merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
        }
        for (id, type) in types.enumerated() where type == 3 || type == 4 {
            d.added.append(.init(id: Int32(id), content: tokens[id]))
            if type == 3 { d.specialIDs.insert(id) }
        }
        d.preTokenizer = pre
        // Qwen2's own tokenizer.json NFC-normalizes; Llama 3 takes a vocabulary word whole (llama.cpp
        // sets ignore_merges for llama-bpe) and adds BOS unless the file says otherwise.
        d.normalizeNFC = pre == .qwen2
        d.ignoreMerges = pre == .llama3
        func id(_ key: String) -> Int? {
            guard let v = gguf.int(key), v >= 0, v < tokens.count else { return nil }
            return v
        }
        d.bosID = id("tokenizer.ggml.bos_token_id")
        d.eosID = id("tokenizer.ggml.eos_token_id")
        d.unknownID = id("tokenizer.ggml.unknown_token_id")
        d.paddingID = id("tokenizer.ggml.padding_token_id")
        if gguf.bool("tokenizer.ggml.add_bos_token") ?? (pre == .llama3), let bos = d.bosID { d.prefixIDs = [bos] }
        if gguf.bool("tokenizer.ggml.add_eos_token") ?? false, let eos = d.eosID { d.suffixIDs = [eos] }
        d.chatTemplate = gguf.string("tokenizer.chat_template")
        self.init(d)
    }

    /// Opens `path` and loads its tokenizer.
    public convenience init(ggufAt path: String, preTokenizer: PreTokenizerKind? = nil) throws {
        try self.init(gguf: GGUFFile(path: path), preTokenizer: preTokenizer)
    }
}
