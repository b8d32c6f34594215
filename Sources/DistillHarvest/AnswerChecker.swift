import DistillClient
import DistillData
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

    /// The answer the second CoT stage gave, cleaned: what follows the last answer marker ("Therefore, the answer is",
    /// "答案是", "答案：", …) or the last `\boxed{}` (`AnswerExtraction.markedAnswer`, shared with the judge's rule
    /// scoring), else the first line; without a leading colon or a trailing full stop.
    public static func cleanAnswer(_ completion: String) -> String {
        if let marked = AnswerExtraction.markedAnswer(in: completion) { return marked }
        var s = completion.trimmingCharacters(in: .whitespacesAndNewlines)
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
    static func number(_ s: String) -> Double? { AnswerExtraction.number(s) }

    /// The first number written in `text` (the harvest's policy: the cleaned answer leads with it).
    static func firstNumber(in text: String) -> Double? { AnswerExtraction.numbers(in: text).first }

    /// The option an answer names: an explicit choice ("answer is B", `(B)`, `B.`, "答案是 B"), else the first
    /// label standing alone, else the option's text.
    static func choiceLabel(in answer: String, choices: [QuestionItem.Choice]) -> String? {
        let labels = Set(choices.map(\.label))
        if let letter = AnswerExtraction.choiceLetter(in: answer), labels.contains(String(letter)) { return String(letter) }
        let scalars = Array(answer.unicodeScalars)
        for (i, c) in scalars.enumerated() where labels.contains(String(c)) {
            let before = i > 0 ? scalars[i - 1] : " "
            let after = i + 1 < scalars.count ? scalars[i + 1] : " "
            let boundaryBefore = !before.properties.isAlphabetic && !AnswerExtraction.isDigit(before)
            let boundaryAfter = !after.properties.isAlphabetic && !AnswerExtraction.isDigit(after)
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
    public static func normalise(_ s: String) -> String { AnswerExtraction.normalise(s) }
}
