/// GPT-2's reversible byte ↔ character table used by every byte-level BPE vocabulary.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68 bytes are
/// shifted to U+0100 and up in byte order, so that no vocabulary entry holds a control or space
/// character (a space is `Ġ`, U+0120). Source: openai/gpt-2 `encoder.py` `bytes_to_unicode`.
enum ByteLevel {
    /// `characterOfByte[b]` is the scalar that stands for byte `b` in vocabulary strings.
    static let characterOfByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(shifted) ?? " "
                shifted += 1
            }
        }
        return table
    }()

    /// The inverse of `characterOfByte`, keyed by scalar value.
    static let byteOfCharacter: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, c) in characterOfByte.enumerated() { map[c.value] = UInt8(b) }
        return map
    }()

    /// The vocabulary spelling of raw bytes (`" hi"` → `"Ġhi"`).
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(characterOfByte[Int(b)]) }
        return String(s)
    }

    /// The raw bytes a vocabulary string stands for, or nil when some character is not in the
    /// byte table (added tokens such as `<|im_start|>` are then taken as their own UTF-8, as HF does).
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for c in token.unicodeScalars {
            guard let b = byteOfCharacter[c.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
