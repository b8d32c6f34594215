import Foundation

extension AnswerExtraction {
    /// Where a final answer was read from.
    public enum AnswerSource: String, Sendable {
        /// The last `\boxed{…}` (MATH / Qwen-Math style).
        case boxed
        /// The text after the last answer marker: "Therefore, the answer is", "the answer is", "Final answer:",
        /// "Answer:", "答案是", "答案为", "答案：", GSM8K's "####".
        case marker
        /// No marker: the last non-empty line.
        case lastLine = "last-line"
    }

    /// A final answer read out of free text.
    public struct FinalAnswer: Sendable, Equatable {
        public var text: String
        public var source: AnswerSource
    }

    /// A calendar date written in an answer, compared as a value (`2019-01-20` ≠ `2022-05-20`, `01/20/2019` = `2019-01-20`).
    public struct DateValue: Sendable, Equatable, CustomStringConvertible {
        public var year: Int
        public var month: Int
        public var day: Int
        /// ISO 8601: `2019-01-20`.
        public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }
    }

    /// Answer markers, longest first; the last occurrence in the text wins.
    static let markerPattern = #"(?i:therefore,?\s+the\s+(?:final\s+)?answer\s+is|the\s+(?:final\s+)?answer\s+is|final\s+answer\s*[:：]|answer\s*[:：])|答案\s*(?:是|为|：|:)|####"#

    /// The final answer of `text`, as the harvest's answer check and the judge's rule scoring both read it: the last
    /// `\boxed{…}`, else the rest of the line after the last answer marker, else the last non-empty line. Cleaned of a
    /// leading colon, surrounding `**` and a trailing full stop. Nil for empty text.
    public static func finalAnswer(in text: String) -> FinalAnswer? {
        if let boxed = lastBoxed(in: text) { return FinalAnswer(text: clean(boxed), source: .boxed) }
        if let marked = afterLastMarker(in: text) { return FinalAnswer(text: clean(marked), source: .marker) }
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return nil }
        return FinalAnswer(text: clean(String(line)), source: .lastLine)
    }

    /// The answer a marker or `\boxed{}` names, or nil when the text has neither (the harvest's CoT second stage
    /// then reads the first line).
    public static func markedAnswer(in text: String) -> String? {
        guard let a = finalAnswer(in: text), a.source != .lastLine else { return nil }
        return a.text
    }

    /// The contents of the last `\boxed{…}`, braces balanced.
    static func lastBoxed(in text: String) -> String? {
        guard let open = text.range(of: "\\boxed{", options: .backwards) else { return nil }
        var depth = 1
        var i = open.upperBound
        while i < text.endIndex {
            switch text[i] {
            case "{": depth += 1
            case "}":
                depth -= 1
                if depth == 0 { return String(text[open.upperBound..<i]) }
            default: break
            }
            i = text.index(after: i)
        }
        return nil
    }

    /// The rest of the line after the last marker (the next non-empty line when the marker ends its line).
    static func afterLastMarker(in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: markerPattern),
              let m = regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).last,
              let r = Range(m.range, in: text) else { return nil }
        let rest = text[r.upperBound...]
        let lines = rest.split(separator: "\n", omittingEmptySubsequences: false)
        let cleaned = { (s: Substring) in s.trimmingCharacters(in: CharacterSet(charactersIn: " :：*\t\r")) }
        if let first = lines.first, !cleaned(first).isEmpty { return String(first) }
        return lines.dropFirst().first { !cleaned($0).isEmpty }.map(String.init)
    }

    /// Trims spaces, a leading colon, Markdown bold and a trailing full stop: ": **42**." → "42".
    static func clean(_ s: String) -> String {
        var t = s.trimmingCharacters(in: CharacterSet(charactersIn: " :：\t\r\n*"))
        while let last = t.last, ".。".contains(last) {
            t.removeLast()
            t = t.trimmingCharacters(in: CharacterSet(charactersIn: " \t*"))
        }
        return t
    }

    /// English month abbreviations, January first (a month name starts with one).
    public static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Every valid date written in `text`, in order: `2019-01-20`, `2019/01/20`, `2019.1.20`, `2019年1月20日`,
    /// `01/20/2019` (month first, as BIG-Bench's date questions write it), `January 20, 2019`, `20 Jan 2019`.
    public static func dates(in text: String) -> [DateValue] {
        let s = text.precomposedStringWithCompatibilityMapping
        let month = #"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"#
        // (pattern, which capture groups hold year, month, day); a month group of letters is a month name.
        let patterns: [(String, (Int, Int, Int))] = [
            (#"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)"#, (1, 2, 3)),
            (#"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)"#, (3, 1, 2)),
            (#"(?i)\b"# + month + #"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)"#, (3, 1, 2)),
            (#"(?i)(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"# + month + #",?\s+(\d{4})(?!\d)"#, (3, 2, 1)),
        ]
        var found: [(at: Int, date: DateValue)] = []
        let ns = s as NSString
        for (pattern, (yg, mg, dg)) in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            for m in regex.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
                let monthText = ns.substring(with: m.range(at: mg)).lowercased()
                let monthValue = Int(monthText) ?? monthNames.firstIndex { monthText.hasPrefix($0) }.map { $0 + 1 }
                guard let y = Int(ns.substring(with: m.range(at: yg))), let mo = monthValue, let d = Int(ns.substring(with: m.range(at: dg))),
                      (1...12).contains(mo), (1...31).contains(d),
                      !found.contains(where: { NSLocationInRange($0.at, m.range) }) else { continue }
                found.append((m.range.location, DateValue(year: y, month: mo, day: d)))
            }
        }
        return found.sorted { $0.at < $1.at }.map(\.date)
    }
}
