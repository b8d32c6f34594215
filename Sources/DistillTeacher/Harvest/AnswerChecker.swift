import Foundation

/// Checks a teacher's final answer against the gold one, the way Zero-shot-CoT (Kojima et al. 2022) cleans answers:
/// numeric gold → the first number in the answer; multiple-choice gold → the first option letter (or the option's
/// text) in the answer; otherwise normalised exact match (case, punctuation, articles and spacing ignored).
public enum AnswerChecker {
    public enum Kind: String, Sendable {
        case numeric, choice, text
    }

    public static func kind(gold: String, choices: [QuestionItem.Choice]) -> Kind {
        if !choices.isEmpty { return .choice }
        if number(gold.trimmingCharacters(in: .whitespacesAndNewlines)) != nil { return .numeric }
        return .text
    }

    /// The answer the second CoT stage gave, cleaned: the continuation of "Therefore, the answer is", up to the
    /// first line break, without a leading colon or a trailing full stop.
    public static func cleanAnswer(_ completion: String) -> String {
        var s = completion.trimmingCharacters(in: .whitespacesAndNewlines)
        for marker in ["Therefore, the answer is", "the answer is", "答案是"] {
            if let r = s.range(of: marker, options: [.caseInsensitive, .backwards]) { s = String(s[r.upperBound...]) }
        }
        if let nl = s.firstIndex(where: \.isNewline) { s = String(s[..<nl]) }
        s = s.trimmingCharacters(in: CharacterSet(charactersIn: " :：\t"))
        while let last = s.last, ".。".contains(last) { s.removeLast() }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// Whether `answer` (already cleaned) matches `gold`.
    public static func isCorrect(_ answer: String, gold: String, choices: [QuestionItem.Choice] = []) -> Bool {
        switch kind(gold: gold, choices: choices) {
        case .numeric:
            guard let g = number(gold), let a = firstNumber(in: answer) else { return false }
            return abs(a - g) <= 1e-6 * max(1, abs(g))
        case .choice:
            return choiceLabel(in: answer, choices: choices) == gold
        case .text:
            return normalise(answer) == normalise(gold)
        }
    }

    /// Parses a whole string as a number: `1,234.5`, `$12`, `45%`, `-3`, `3/4`.
    static func number(_ s: String) -> Double? {
        var t = s.replacingOccurrences(of: ",", with: "")
        t = t.trimmingCharacters(in: CharacterSet(charactersIn: "$€£¥% "))
        if let v = Double(t), v.isFinite { return v }
        let parts = t.split(separator: "/")
        if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return a / b }
        return nil
    }

    /// The first number written in `text` (thousands separators allowed; a fraction `a/b` counts as a/b).
    static func firstNumber(in text: String) -> Double? {
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            let startsNumber = isDigit(c) || (c == "-" && i + 1 < scalars.count && isDigit(scalars[i + 1])
                                              && (i == 0 || !isDigit(scalars[i - 1])))
            if startsNumber {
                var j = i + 1
                while j < scalars.count, isDigit(scalars[j]) || ((scalars[j] == "," || scalars[j] == "." || scalars[j] == "/")
                                                               && j + 1 < scalars.count && isDigit(scalars[j + 1])) {
                    j += 1
                }
                var token = String(String.UnicodeScalarView(scalars[i..<j]))
                // "1,5" is not a thousands group; read the comma as a separator only before three digits.
                if token.contains(","), token.split(separator: ",").dropFirst().contains(where: { $0.count != 3 && !$0.contains(".") }) {
                    token = String(token.prefix { $0 != "," })
                }
                return number(token)
            }
            i += 1
        }
        return nil
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    /// The option an answer names: `(B)`, `B)`, `B.`, `B` alone, or the option's text.
    static func choiceLabel(in answer: String, choices: [QuestionItem.Choice]) -> String? {
        let labels = Set(choices.map(\.label))
        let scalars = Array(answer.unicodeScalars)
        for (i, c) in scalars.enumerated() where labels.contains(String(c)) {
            let before = i > 0 ? scalars[i - 1] : " "
            let after = i + 1 < scalars.count ? scalars[i + 1] : " "
            let boundaryBefore = !before.properties.isAlphabetic && !isDigit(before)
            let boundaryAfter = !after.properties.isAlphabetic && !isDigit(after)
            if boundaryBefore && boundaryAfter { return String(c) }
        }
        let a = normalise(answer)
        // Longest option text first, so "red apple" wins over "apple".
        for choice in choices.sorted(by: { $0.text.count > $1.text.count }) where !normalise(choice.text).isEmpty {
            if a.contains(normalise(choice.text)) { return choice.label }
        }
        return nil
    }

    /// Case-folded, width-folded text without punctuation, English articles or extra spaces.
    public static func normalise(_ s: String) -> String {
        let folded = s.precomposedStringWithCompatibilityMapping.lowercased()
        var kept = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            if scalar.properties.generalCategory.isPunctuationOrSymbol { kept.append(" ") } else { kept.append(scalar) }
        }
        let words = String(kept).split(whereSeparator: \.isWhitespace).filter { !["a", "an", "the"].contains($0) }
        return words.joined(separator: " ")
    }
}

extension Unicode.GeneralCategory {
    var isPunctuationOrSymbol: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            true
        default:
            false
        }
    }
}
