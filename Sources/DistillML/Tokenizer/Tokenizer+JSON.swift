import DistillData
import Foundation

extension Tokenizer {
    /// Loads an HF `tokenizer.json` (BPE model, byte-level). A `tokenizer_config.json` and a
    /// `chat_template.jinja` in the same folder, when present, supply BOS/EOS and the chat template.
    /// `preTokenizer` overrides the pre-tokenizer the file names (nil: use the file's).
    public convenience init(tokenizerJSONAt path: String, preTokenizer: PreTokenizerKind? = nil) throws {
        do { try FileChecks.requireReadableFile(path) } catch let e as DataError {
            throw TokenizerError.unreadable(path, e.message)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.unreadable(path, "cannot read the file; check the path")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let configPath = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        let templatePath = (folder as NSString).appendingPathComponent("chat_template.jinja")
        var config: [String: Any] = [:]
        if let configData = FileManager.default.contents(atPath: configPath) {
            guard let object = try? JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
                throw TokenizerError.malformed(configPath, field: "(top level)", "not a JSON object")
            }
            config = object
        }
        var template = config["chat_template"] as? String
        if template == nil, let t = FileManager.default.contents(atPath: templatePath) {
            template = String(decoding: t, as: UTF8.self)
        }
        try self.init(tokenizerJSON: data, source: path, config: config, chatTemplate: template, preTokenizer: preTokenizer)
    }

    /// Builds from the bytes of a `tokenizer.json`; `config` is the parsed `tokenizer_config.json`.
    convenience init(tokenizerJSON data: Data, source: String, config: [String: Any], chatTemplate: String?,
                     preTokenizer: PreTokenizerKind? = nil) throws {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError.malformed(source, field: "(top level)", "not a JSON object; is this a tokenizer.json?")
        }
        var d = TokenizerDefinition()
        let model = try Self.object(root["model"], source, "model")
        if let type = model["type"] as? String, type != "BPE" {
            throw TokenizerError.unsupported(source, field: "model.type", "'\(type)' tokenizers are not supported; only byte-level BPE")
        }
        if model["byte_fallback"] as? Bool == true {
            throw TokenizerError.unsupported(source, field: "model.byte_fallback", "byte-fallback (SentencePiece-style) BPE is not supported")
        }
        guard let vocab = model["vocab"] as? [String: Int] else {
            throw TokenizerError.malformed(source, field: "model.vocab", "expected an object of token → id")
        }
        d.merges = try Self.merges(model["merges"], source)
        d.ignoreMerges = model["ignore_merges"] as? Bool ?? false

        let added = (root["added_tokens"] as? [[String: Any]]) ?? []
        // Ids index an array of that size, so each is checked first: an id of 2^63−1 or 10^11 is an error, not an
        // overflow or a terabyte allocation. Ids may leave gaps, but never more gaps than tokens.
        let idLimit = min(Self.maxTokenID, 2 * (vocab.count + added.count) + 1024)
        func checkID(_ id: Int, field: String, token: String) throws {
            guard id >= 0, id < idLimit else {
                throw TokenizerError.malformed(source, field: field, "token '\(token.prefix(40))' has id \(id); ids must lie in "
                    + "0..<\(idLimit) for a vocabulary of \(vocab.count) tokens and \(added.count) added tokens: the file is corrupt")
            }
        }
        if let bad = vocab.filter({ $0.value < 0 || $0.value >= idLimit }).min(by: { $0.key < $1.key }) {
            try checkID(bad.value, field: "model.vocab", token: bad.key)
        }
        var maxID = vocab.values.max() ?? -1
        for (index, entry) in added.enumerated() {
            guard let id = entry["id"] as? Int, let content = entry["content"] as? String else {
                throw TokenizerError.malformed(source, field: "added_tokens[\(index)]", "needs an integer 'id' and a string 'content'")
            }
            try checkID(id, field: "added_tokens[\(index)].id", token: content)
            maxID = max(maxID, id)
        }
        d.tokens = [String](repeating: "", count: maxID + 1)
        for (token, id) in vocab { d.tokens[id] = token }
        for (index, entry) in added.enumerated() {
            guard let id = entry["id"] as? Int, let content = entry["content"] as? String else {
                throw TokenizerError.malformed(source, field: "added_tokens[\(index)]", "needs an integer 'id' and a string 'content'")
            }
            d.tokens[id] = content
            d.added.append(.init(id: Int32(id), content: content,
                                 lstrip: entry["lstrip"] as? Bool ?? false, rstrip: entry["rstrip"] as? Bool ?? false))
            if entry["special"] as? Bool ?? false { d.specialIDs.insert(id) }
        }
        d.normalizeNFC = try Self.normalizer(root["normalizer"], source)
        (d.preTokenizer, d.addPrefixSpace) = try Self.preTokenizer(root["pre_tokenizer"], source)
        (d.prefixIDs, d.suffixIDs) = Self.postProcessor(root["post_processor"], vocab: vocab, added: d.added)

        func tokenID(_ key: String) -> Int? {
            // tokenizer_config.json writes a token as a string or as {"content": "..."}.
            let value = config[key]
            let text = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
            guard let text else { return nil }
            return d.added.first { $0.content == text }.map { Int($0.id) } ?? vocab[text]
        }
        d.bosID = tokenID("bos_token") ?? d.prefixIDs.first
        d.eosID = tokenID("eos_token")
        d.paddingID = tokenID("pad_token")
        d.bpeUnknownID = (model["unk_token"] as? String).flatMap { vocab[$0] }
        d.unknownID = tokenID("unk_token") ?? d.bpeUnknownID
        d.chatTemplate = chatTemplate
        if let preTokenizer { d.preTokenizer = preTokenizer }
        self.init(d)
    }

    /// The largest token id any tokenizer may use (2^24; the largest real vocabularies have about 2^18).
    static let maxTokenID = 1 << 24

    private static func object(_ value: Any?, _ source: String, _ field: String) throws -> [String: Any] {
        guard let object = value as? [String: Any] else {
            throw TokenizerError.malformed(source, field: field, "expected a JSON object")
        }
        return object
    }

    /// Merges come as `"a b"` strings (older files) or `["a", "b"]` pairs (tokenizers ≥ 0.20).
    private static func merges(_ value: Any?, _ source: String) throws -> [(String, String)] {
        guard let list = value as? [Any] else {
            throw TokenizerError.malformed(source, field: "model.merges", "expected an array of merges")
        }
        var out: [(String, String)] = []
        out.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            if let s = item as? String, let space = s.firstIndex(of: " ") {
                out.append((String(s[..<space]), String(s[s.index(after: space)...])))
            } else if let pair = item as? [String], pair.count == 2 {
                out.append((pair[0], pair[1]))
            } else {
                throw TokenizerError.malformed(source, field: "model.merges[\(i)]", "expected \"a b\" or [\"a\", \"b\"]")
            }
        }
        return out
    }

    /// Only NFC (Qwen2) or no normalizer at all is supported.
    private static func normalizer(_ value: Any?, _ source: String) throws -> Bool {
        guard let n = value as? [String: Any] else { return false }
        let steps = (n["type"] as? String == "Sequence") ? (n["normalizers"] as? [[String: Any]] ?? []) : [n]
        var nfc = false
        for step in steps {
            let type = step["type"] as? String ?? "?"
            guard type == "NFC" else {
                throw TokenizerError.unsupported(source, field: "normalizer", "normalizer '\(type)' is not supported (only NFC)")
            }
            nfc = true
        }
        return nfc
    }

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Maps the file's pre-tokenizer pipeline onto one of the hand-written families.
    private static func preTokenizer(_ value: Any?, _ source: String) throws -> (PreTokenizerKind, Bool) {
        guard let p = value as? [String: Any] else {
            throw TokenizerError.unsupported(source, field: "pre_tokenizer", "a byte-level BPE needs a pre-tokenizer")
        }
        let steps = (p["type"] as? String == "Sequence") ? (p["pretokenizers"] as? [[String: Any]] ?? []) : [p]
        let types = steps.map { $0["type"] as? String ?? "?" }
        let prefixSpace = steps.last?["add_prefix_space"] as? Bool ?? false
        let usesRegex = steps.last?["use_regex"] as? Bool ?? true
        switch types {
        case ["ByteLevel"] where usesRegex:
            return (.gpt2, prefixSpace)
        case ["Digits", "ByteLevel"] where usesRegex && steps[0]["individual_digits"] as? Bool == true:
            return (.smollm, prefixSpace)
        case ["Split", "ByteLevel"] where !usesRegex:
            let pattern = (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String ?? ""
            switch pattern {
            case gpt2Pattern: return (.gpt2, prefixSpace)
            case llama3Pattern: return (.llama3, prefixSpace)
            case qwen2Pattern: return (.qwen2, prefixSpace)
            default:
                throw TokenizerError.unsupported(source, field: "pre_tokenizer.pretokenizers[0].pattern",
                                                 "split pattern \(pattern) is not one of GPT-2, Llama 3, Qwen2")
            }
        default:
            throw TokenizerError.unsupported(source, field: "pre_tokenizer",
                                             "pipeline \(types) is not supported (GPT-2, SmolLM, Llama 3, Qwen2 byte-level only)")
        }
    }

    /// The special tokens `TemplateProcessing` puts around a single sequence (`$A`).
    private static func postProcessor(_ value: Any?, vocab: [String: Int],
                                      added: [SpecialTokenMatcher.Entry]) -> ([Int], [Int]) {
        guard let p = value as? [String: Any] else { return ([], []) }
        var template: [[String: Any]]?
        if p["type"] as? String == "TemplateProcessing" {
            template = p["single"] as? [[String: Any]]
        } else if p["type"] as? String == "Sequence" {
            for inner in p["processors"] as? [[String: Any]] ?? [] where inner["type"] as? String == "TemplateProcessing" {
                template = inner["single"] as? [[String: Any]]
            }
        }
        guard let template else { return ([], []) }
        var prefix: [Int] = [], suffix: [Int] = []
        var seenSequence = false
        for piece in template {
            if piece["Sequence"] != nil { seenSequence = true; continue }
            guard let special = piece["SpecialToken"] as? [String: Any], let name = special["id"] as? String,
                  let id = added.first(where: { $0.content == name }).map({ Int($0.id) }) ?? vocab[name] else { continue }
            if seenSequence { suffix.append(id) } else { prefix.append(id) }
        }
        return (prefix, suffix)
    }
}
