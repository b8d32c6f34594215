import Foundation
import Synchronization

/// A byte-level BPE tokenizer (GPT-2 family: SmolLM2, Llama 3, Qwen2), loaded from GGUF metadata
/// or an HF `tokenizer.json`, giving the same ids as HF `tokenizers`.
///
/// Encoding runs: split out added/special tokens → optional NFC → a hand-written pre-tokenizer →
/// BPE merges per word (cached per word). Thread-safe; share one instance.
/// Not implemented: SentencePiece (`tokenizer.ggml.model == "llama"`), WordPiece, byte-fallback BPE.
public final class Tokenizer: Sendable {
    /// Number of ids (the largest id plus one).
    public let vocabularySize: Int
    public let bosID: Int?
    public let eosID: Int?
    public let unknownID: Int?
    public let paddingID: Int?
    /// Control tokens (`<|im_start|>`, `<|endoftext|>`, …): skipped by `decode(_:skipSpecial: true)`.
    public let specialIDs: Set<Int>
    /// The pre-tokenizer family in use.
    public let preTokenizer: PreTokenizerKind
    /// The Jinja chat template text the file carried, if any.
    public let chatTemplateText: String?
    /// The chat format chosen from `chatTemplateText` (ChatML when the file has none).
    public let chatTemplate: ChatTemplate

    private let tokens: [String]
    private let bytesOfToken: [[UInt8]]
    private let vocabulary: [String: Int32]
    let bpe: BPEModel
    private let splitter: PreTokenizer
    private let specials: SpecialTokenMatcher
    private let normalizeNFC: Bool
    private let addPrefixSpace: Bool
    private let prefixIDs: [Int32]
    private let suffixIDs: [Int32]
    /// Word bytes → ids. Prompts repeat words heavily, so most words skip BPE entirely.
    private let wordCache = Mutex<[[UInt8]: [Int32]]>([:])
    private static let wordCacheLimit = 200_000
    private static let cachedWordMaxBytes = 256

    init(_ d: TokenizerDefinition) {
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(d.tokens.count)
        for (id, t) in d.tokens.enumerated() where !t.isEmpty && vocabulary[t] == nil {
            vocabulary[t] = Int32(id)
        }
        let addedIDs = Set(d.added.map { Int($0.id) })
        self.tokens = d.tokens
        self.bytesOfToken = d.tokens.enumerated().map { id, t in
            // Added tokens are their own text; vocabulary tokens are spelled in GPT-2's byte table.
            addedIDs.contains(id) ? Array(t.utf8) : (ByteLevel.decode(t) ?? Array(t.utf8))
        }
        self.vocabulary = vocabulary
        self.vocabularySize = d.tokens.count
        self.bpe = BPEModel(vocabulary: vocabulary, merges: d.merges,
                            unknownID: d.bpeUnknownID.map { Int32($0) }, ignoreMerges: d.ignoreMerges)
        self.splitter = PreTokenizer(kind: d.preTokenizer)
        self.specials = SpecialTokenMatcher(d.added)
        self.normalizeNFC = d.normalizeNFC
        self.addPrefixSpace = d.addPrefixSpace
        self.prefixIDs = d.prefixIDs.map { Int32($0) }
        self.suffixIDs = d.suffixIDs.map { Int32($0) }
        self.bosID = d.bosID
        self.eosID = d.eosID
        self.unknownID = d.unknownID
        self.paddingID = d.paddingID
        self.specialIDs = d.specialIDs
        self.preTokenizer = d.preTokenizer
        self.chatTemplateText = d.chatTemplate
        let text = { (id: Int?) -> String? in
            guard let id, id >= 0, id < d.tokens.count else { return nil }
            return d.tokens[id]
        }
        self.chatTemplate = ChatTemplate(templateText: d.chatTemplate, bosToken: text(d.bosID), eosToken: text(d.eosID))
    }

    // MARK: Lookup

    /// The id of a vocabulary string (byte-level spelling, or an added token's text).
    public func id(of token: String) -> Int? { vocabulary[token].map(Int.init) }

    /// The vocabulary string of an id (`"Ġworld"`), or "" for an id outside the vocabulary.
    public func tokenString(_ id: Int) -> String {
        id >= 0 && id < tokens.count ? tokens[id] : ""
    }

    /// The raw bytes an id stands for; may be part of a UTF-8 sequence.
    public func tokenBytes(_ id: Int) -> [UInt8] {
        id >= 0 && id < bytesOfToken.count ? bytesOfToken[id] : []
    }

    // MARK: Encode

    /// The ids of `text`. Added/special tokens written in the text (`<|im_start|>`) become their ids,
    /// as in HF; with `parseSpecial: false` they are encoded as plain text (llama.cpp's
    /// `parse_special = false`), so untrusted content cannot forge a turn boundary.
    /// `addSpecial` adds what the file asks for around the text (Llama 3's BOS; nothing for SmolLM2).
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = true) -> [Int] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        if addSpecial { out.append(contentsOf: prefixIDs) }
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buf in
            var position = 0
            for m in parseSpecial ? specials.matches(in: buf) : [] {
                encodeSegment(UnsafeBufferPointer(rebasing: buf[position..<m.start]), into: &out)
                out.append(m.id)
                position = m.end
            }
            encodeSegment(UnsafeBufferPointer(rebasing: buf[position..<buf.count]), into: &out)
        }
        if addSpecial { out.append(contentsOf: suffixIDs) }
        return out.map(Int.init)
    }

    /// Encodes text that holds no added tokens.
    private func encodeSegment(_ raw: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        guard !raw.isEmpty else { return }
        if normalizeNFC || addPrefixSpace {
            var text = String(decoding: raw, as: UTF8.self)
            if normalizeNFC { text = Self.nfc(text) }
            if addPrefixSpace && !text.hasPrefix(" ") { text = " " + text }
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { encodeWords($0, into: &out) }
        } else {
            encodeWords(raw, into: &out)
        }
    }

    private func encodeWords(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        // Scalars, their classes and their byte offsets (one extra offset for the end).
        var values: [UInt32] = []
        var offsets: [Int] = []
        values.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var i = 0
        while i < bytes.count {
            let (value, length) = Self.decodeScalar(bytes, at: i)
            values.append(value); offsets.append(i)
            i += length
        }
        offsets.append(bytes.count)
        let classes = values.map(CharClass.of)
        var words: [(Int, Int)] = []
        words.reserveCapacity(values.count / 3 + 1)
        values.withUnsafeBufferPointer { v in
            classes.withUnsafeBufferPointer { c in splitter.split(v, c, into: &words) }
        }
        for (a, b) in words {
            let word = UnsafeBufferPointer(rebasing: bytes[offsets[a]..<offsets[b]])
            encodeWord(word, into: &out)
        }
    }

    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        guard word.count <= Self.cachedWordMaxBytes else {
            bpe.encodeWord(word, into: &out)
            return
        }
        let key = Array(word)
        if let hit = wordCache.withLock({ $0[key] }) {
            out.append(contentsOf: hit)
            return
        }
        var ids: [Int32] = []
        bpe.encodeWord(word, into: &ids)
        out.append(contentsOf: ids)
        wordCache.withLock { cache in
            if cache.count >= Self.wordCacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = ids
        }
    }

    /// NFC through the standard library's own normalizer (the one `String` comparison uses).
    /// Not Foundation's `precomposedStringWithCanonicalMapping`: on Linux it composes a
    /// supplementary-plane scalar with a following mark as if it were its low 16 bits
    /// (U+E0054 + U+0326 becomes U+021A "Ț"), which the fuzz corpus caught.
    static func nfc(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0xCC }) { return text }  // nothing at or above U+0300: already NFC
        return String(decoding: Array(text._nfcCodeUnits), as: UTF8.self)
    }

    /// Decodes one scalar of valid UTF-8 (the bytes come from a Swift `String`).
    @inline(__always)
    private static func decodeScalar(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(b[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6
                | UInt32(b[i + 3] & 0x3F), 4)
    }

    // MARK: Decode

    /// The text of `ids`. Bytes that do not form valid UTF-8 (a sequence cut mid-character)
    /// become U+FFFD, as HF's `from_utf8_lossy` does.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where !(skipSpecial && specialIDs.contains(id)) {
            bytes.append(contentsOf: tokenBytes(id))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
