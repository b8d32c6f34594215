import Foundation

/// Reading answers out of free text: every number in order, a chosen option letter, and one normalisation for
/// text comparison. Shared by the harvest's answer check (first number after the CoT marker) and the judge's rule
/// scoring (last number in a student's output); each keeps its own policy on top of these primitives.
public enum AnswerExtraction {
    /// Every number written in `text`, in order of appearance.
    ///
    /// Reads `1,234.5` (a comma only as a thousands separator before exactly three digits, so `1,5` is 1 then 5),
    /// `3/4` and `3 / 4` as 0.75, `$12`, `45%`, `-7` and `−7`. A minus is a sign only when not preceded by a
    /// digit or a letter, so `2022-05-20` is 2022, 5, 20 (never -20) and `COVID-19` is 19. A slash chain of three
    /// or more parts (`2022/05/20`) is a date, read part by part rather than as a fraction. Full-width digits
    /// count (`４２` is 42).
    public static func numbers(in text: String) -> [Double] {
        let s = Array(text.precomposedStringWithCompatibilityMapping.unicodeScalars)
        var out: [Double] = []
        var i = 0
        while i < s.count {
            let signed = isMinus(s[i]) && i + 1 < s.count && isDigit(s[i + 1]) && (i == 0 || !isWordScalar(s[i - 1]))
            guard signed || (isDigit(s[i]) && (i == 0 || !isDigit(s[i - 1]))) else { i += 1; continue }
            let start = signed ? i + 1 : i
            var parts = [scanUnsigned(s, from: start)]
            while let slash = slashAfter(s, at: parts[parts.count - 1].end), slash.next < s.count, isDigit(s[slash.next]) {
                parts.append(scanUnsigned(s, from: slash.next))
            }
            i = parts[parts.count - 1].end
            if parts.count == 2, parts[1].value != 0 {
                out.append((signed ? -1 : 1) * parts[0].value / parts[1].value)
            } else {
                // One number, or a date-like chain (2022/05/20) read part by part; only the first part is signed.
                out.append(contentsOf: parts.enumerated().map { $0.offset == 0 && signed ? -$0.element.value : $0.element.value })
            }
        }
        return out
    }

    /// Parses a whole string as one number: `1,234.5`, `$12`, `45%`, `-3`, `3/4`; nil for anything else
    /// (`2024-03-26`, `42 apples`).
    public static func number(_ s: String) -> Double? {
        var t = s.replacingOccurrences(of: ",", with: "")
        t = t.trimmingCharacters(in: CharacterSet(charactersIn: "$€£¥% ").union(.whitespacesAndNewlines))
        if let v = Double(t), v.isFinite { return v }
        let parts = t.split(separator: "/")
        if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return a / b }
        return nil
    }

    /// The option letter (A–J) a text explicitly chooses: "B", "(B)", "B. Paris", "The answer is C", "答案是 D",
    /// "选项 B", "**Answer: A**". The last explicit "answer is X" wins; otherwise a marked letter at a line start;
    /// otherwise nil (no guessing: "A bank…" and "I think" are not answers).
    public static func choiceLetter(in s: String) -> Character? {
        let patterns = [
            #"(?i:answer|option|choice)\s*(?i:is|:)?\s*[\(\[\*]*\s*([A-J])\b"#,
            #"(?:答案|选项|选)\s*(?:是|为|：|:)?\s*[\(（]?\s*([A-J])"#,
            #"^\s*[\(\[]([A-Ja-j])[\)\]]"#,
            // A bare capital must be followed by ")", ".", ":" or end the line, so "A bank…" and "I think" are not answers.
            #"^\s*\**([A-J])(?:[\)\.:：]|\**\s*$)"#,
        ]
        let ns = s as NSString
        for p in patterns {
            guard let regex = try? NSRegularExpression(pattern: p, options: [.anchorsMatchLines]) else { continue }
            if let m = regex.matches(in: s, range: NSRange(location: 0, length: ns.length)).last, m.numberOfRanges > 1 {
                return Character(ns.substring(with: m.range(at: 1)).uppercased())
            }
        }
        return nil
    }

    /// Case-folded, width-folded text without punctuation, symbols, English articles or extra spaces (the SQuAD
    /// exact-match normalisation, extended to CJK punctuation): "The Pacific Ocean." and "pacific ocean" are equal.
    public static func normalise(_ s: String) -> String {
        let folded = s.precomposedStringWithCompatibilityMapping.lowercased()
        var kept = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            if scalar.properties.generalCategory.isPunctuationOrSymbol { kept.append(" ") } else { kept.append(scalar) }
        }
        let words = String(kept).split(whereSeparator: \.isWhitespace).filter { !["a", "an", "the"].contains($0) }
        return words.joined(separator: " ")
    }

    /// Whether `c` is an ASCII digit (after width folding, the only digits numbers are read from).
    public static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    // MARK: - Scanner pieces

    private static func isMinus(_ c: Unicode.Scalar) -> Bool { c == "-" || c == "\u{2212}" }

    private static func isWordScalar(_ c: Unicode.Scalar) -> Bool { isDigit(c) || c.properties.isAlphabetic }

    /// An unsigned decimal starting at a digit: digits, thousands groups, then an optional fraction part.
    private static func scanUnsigned(_ s: [Unicode.Scalar], from start: Int) -> (value: Double, end: Int) {
        var j = start
        var digits = String.UnicodeScalarView()
        while j < s.count, isDigit(s[j]) { digits.append(s[j]); j += 1 }
        while j < s.count, s[j] == ",", isThousandsGroup(s, at: j + 1) {
            digits.append(contentsOf: s[(j + 1)...(j + 3)])
            j += 4
        }
        if j + 1 < s.count, s[j] == ".", isDigit(s[j + 1]) {
            digits.append(".")
            j += 1
            while j < s.count, isDigit(s[j]) { digits.append(s[j]); j += 1 }
        }
        return (Double(String(digits)) ?? 0, j)
    }

    /// Exactly three digits at `k`, not followed by a fourth.
    private static func isThousandsGroup(_ s: [Unicode.Scalar], at k: Int) -> Bool {
        guard k + 2 < s.count, isDigit(s[k]), isDigit(s[k + 1]), isDigit(s[k + 2]) else { return false }
        return k + 3 == s.count || !isDigit(s[k + 3])
    }

    /// A `/` at `end` (spaces allowed around it), and the index just after it and its trailing spaces.
    private static func slashAfter(_ s: [Unicode.Scalar], at end: Int) -> (slash: Int, next: Int)? {
        var j = end
        while j < s.count, s[j] == " " { j += 1 }
        guard j < s.count, s[j] == "/" else { return nil }
        var k = j + 1
        while k < s.count, s[k] == " " { k += 1 }
        return (j, k)
    }
}

extension Unicode.GeneralCategory {
    /// Punctuation or a symbol of any kind (ASCII or CJK), the characters text normalisation drops.
    public var isPunctuationOrSymbol: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            true
        default:
            false
        }
    }
}
