/// Turns ids into text one at a time, holding back the bytes of a character split across tokens.
///
/// Emoji and CJK characters often span two or three byte-level tokens; printing each token's bytes
/// alone would print U+FFFD. The concatenated output equals `Tokenizer.decode` of all the ids.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []

    public init(_ tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// Adds one id and returns the text that is now complete (possibly "").
    public mutating func append(_ id: Int) -> String {
        pending.append(contentsOf: tokenizer.tokenBytes(id))
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is still held (an unfinished sequence becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that does not end inside a UTF-8 sequence that may still be completed.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        // Walk back over at most 3 continuation bytes to the last lead byte.
        var start = b.count - 1
        while start >= 0 && b.count - start <= 4 && b[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0, b.count - start <= 4 else { return b.count }
        let lead = b[start]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return b.count  // ASCII or an invalid lead: nothing to wait for
        }
        return b.count - start < need ? start : b.count
    }
}

extension Tokenizer {
    /// The text of `ids` without a character the last tokens only began: what a generation cut by its token limit
    /// (or ended by EOS mid-character) may show. `decode` would turn those bytes into U+FFFD; this drops them.
    public func decodeComplete(_ ids: [Int], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where !(skipSpecial && specialIDs.contains(id)) { bytes.append(contentsOf: tokenBytes(id)) }
        return String(decoding: bytes[..<StreamingDecoder.completePrefixLength(bytes)], as: UTF8.self)
    }
}
