import Foundation

/// Detects and repairs double-encoded text: UTF-8 bytes decoded as Windows-1252 and saved again as UTF-8, which
/// turns "中文" into "ä¸­æ–‡" (seed 003 arrived like this).
///
/// Method: map every character back to the Windows-1252 byte it came from, then decode those bytes as UTF-8. Real
/// text rarely survives this (a Latin-1 "é" or a curly quote becomes a stray byte), while mojibake turns back into
/// valid multi-byte characters. Characters with no Windows-1252 byte (real CJK, emoji) pass through untouched, so
/// a file that mixes genuine Chinese with mojibake is still caught.
public enum Mojibake {
    /// What a double-encoded text looks like and what it would be repaired to.
    public struct Finding: Sendable, Equatable {
        /// A short piece of the text as found ("ä¸­æ–‡").
        public var sample: String
        /// The same piece repaired ("中文").
        public var repairedSample: String
        /// The whole text repaired; characters that lost a byte beyond recovery show as U+FFFD.
        public var repaired: String
        /// Characters that lost a byte in the bad save and could not be rebuilt (each is a U+FFFD in `repaired`).
        public var lost: Int = 0
    }

    // Windows-1252 0x80–0x9F. The five bytes it leaves undefined (81 8D 8F 90 9D) decode on Windows to the C1
    // controls of the same value, so those map back too.
    private static let high: [Unicode.Scalar: UInt8] = {
        let table: [UInt32] = [0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
                               0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
                               0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178]
        var m: [Unicode.Scalar: UInt8] = [:]
        for (i, v) in table.enumerated() { if let s = Unicode.Scalar(v) { m[s] = UInt8(0x80 + i) } }
        return m
    }()

    /// The Windows-1252 byte for a non-ASCII scalar, or nil if it has none.
    static func cp1252Byte(_ s: Unicode.Scalar) -> UInt8? {
        if s.value >= 0xA0 && s.value <= 0xFF { return UInt8(s.value) }
        return high[s]
    }

    /// Whether `text` looks double-encoded, with a sample and its repair; nil for ordinary text.
    public static func detect(_ text: String) -> Finding? {
        // Fast exit: most text (ASCII, CJK, emoji) has no character that Windows-1252 could have produced.
        guard text.unicodeScalars.contains(where: { $0.value >= 0x80 && cp1252Byte($0) != nil }) else { return nil }
        let whole = decode(text.unicodeScalars)
        // Clean mojibake decodes completely; a copy that lost bytes (shown as U+FFFD, or dropped outright because
        // Windows-1252 leaves them undefined) still decodes mostly.
        let rebuilt = whole.good + whole.lost
        let suspicious = whole.good >= 1 && (whole.bad == 0 || (rebuilt >= 3 && whole.bad * 3 <= rebuilt))
        guard suspicious else { return nil }
        let sample = firstRun(in: text)
        var repairedSample = decode(sample.unicodeScalars).text
        while repairedSample.unicodeScalars.last == "\u{FFFD}" { repairedSample.unicodeScalars.removeLast() }
        return Finding(sample: sample, repairedSample: repairedSample, repaired: whole.text, lost: whole.lost)
    }

    /// The repaired text if `text` looks double-encoded, else `text` unchanged.
    public static func repair(_ text: String) -> String { detect(text)?.repaired ?? text }

    /// The first run of non-ASCII characters Windows-1252 could have produced, at most 24 of them.
    private static func firstRun(in text: String) -> String {
        var run = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            let mapped = s.value >= 0x80 && cp1252Byte(s) != nil
            if mapped {
                run.append(s)
                if run.count >= 24 { break }
            } else if !run.isEmpty {
                break
            }
        }
        return String(run)
    }

    /// The bytes Windows-1252 leaves undefined: a decoder that drops them (Python's `errors="ignore"`) turns
    /// "馏" (E9 A6 8F) into "é¦", one byte short.
    static let undefinedBytes: [UInt8] = [0x81, 0x8D, 0x8F, 0x90, 0x9D]

    /// A character one byte short: a lead byte of an n-byte sequence followed by n − 2 continuation bytes (at least
    /// one), which an undefined byte, put back at one place, would complete. Returns how many bytes it spans and
    /// the character when exactly one CJK character fits (nil: lost; it becomes U+FFFD).
    static func oneByteShort(_ buf: UnsafeBufferPointer<UInt8>, at i: Int) -> (span: Int, scalar: Unicode.Scalar?)? {
        let need: Int
        switch buf[i] {
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return nil
        }
        var present = 0
        while present < need - 2, i + 1 + present < buf.count, (0x80...0xBF).contains(buf[i + 1 + present]) { present += 1 }
        guard present == need - 2 else { return nil }
        // The sequence must end here: a further continuation byte would make it something else.
        if i + 1 + present < buf.count, (0x80...0xBF).contains(buf[i + 1 + present]) { return nil }
        let have = Array(buf[i..<(i + 1 + present)])
        var fits = Set<UInt32>()
        for slot in 1...have.count {
            for b in undefinedBytes {
                var candidate = have
                candidate.insert(b, at: slot)
                let ok = candidate.withUnsafeBufferPointer { UTF8Validation.sequenceLength($0, at: 0) == need }
                guard ok, let s = String(validating: candidate, as: UTF8.self)?.unicodeScalars.first else { continue }
                fits.insert(s.value)
            }
        }
        guard !fits.isEmpty else { return nil }
        let cjk = fits.filter { (0x4E00...0x9FFF).contains($0) }
        return (1 + present, cjk.count == 1 && fits.count == 1 ? cjk.first.flatMap(Unicode.Scalar.init) : nil)
    }

    /// Maps scalars back to bytes and decodes them as UTF-8. `good` counts multi-byte characters rebuilt from
    /// mapped bytes, `lost` those one dropped byte short (U+FFFD unless only one character fits), `bad` the mapped
    /// high bytes that form no character.
    private static func decode(_ scalars: String.UnicodeScalarView) -> (text: String, good: Int, bad: Int, lost: Int) {
        var bytes: [UInt8] = []
        var mapped: [Bool] = []
        bytes.reserveCapacity(scalars.count)
        for s in scalars {
            if s.value < 0x80 {
                bytes.append(UInt8(s.value)); mapped.append(false)
            } else if let b = cp1252Byte(s) {
                bytes.append(b); mapped.append(true)
            } else {
                for b in String(s).utf8 { bytes.append(b); mapped.append(false) }
            }
        }
        var out = String.UnicodeScalarView()
        var good = 0, bad = 0, lost = 0
        bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while i < buf.count {
                let b = buf[i]
                if b < 0x80 { out.append(Unicode.Scalar(b)); i += 1; continue }
                let n = UTF8Validation.sequenceLength(buf, at: i)
                if n == 0, mapped[i], let short = oneByteShort(buf, at: i),
                   mapped[(i + 1)..<(i + short.span)].allSatisfy({ $0 }) {
                    if let s = short.scalar { out.append(s); good += 1 } else { out.append("\u{FFFD}"); lost += 1 }
                    i += short.span
                    continue
                }
                if n == 0 {
                    if mapped[i] { bad += 1 }
                    out.append("\u{FFFD}")
                    i += 1
                    continue
                }
                if mapped[i] { good += 1 }
                var it = buf[i..<(i + n)].makeIterator()
                var dec = UTF8()
                if case .scalarValue(let s) = dec.decode(&it) { out.append(s) }
                i += n
            }
        }
        return (String(out), good, bad, lost)
    }
}
