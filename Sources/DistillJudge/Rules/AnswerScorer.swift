import DistillData
import Foundation

/// Scoring without a judge, for tasks with one right answer: exact match, numeric match, or multiple-choice letter,
/// each on the final answer (see `verdict`).
/// Produces ordinary judgments with one criterion, `Accuracy`, on a 0–1 scale, so reports and statistics are the same.
///
/// An output with no extractable answer scores 0: that is the model failing the task, not the scorer failing to read
/// it, so it is not "invalid" the way an unparseable judge reply is.
public enum AnswerScorer {
    public enum Mode: String, Sendable, CaseIterable {
        /// Equal after `AnswerExtraction.normalise`: case and width folding, punctuation, articles and extra spaces ignored.
        case exact
        /// The answer's number equals the reference's (relative tolerance 1e-6); a date reference compares as a date.
        case numeric
        /// The chosen option letter (A–J) equals the reference's letter.
        case choice
    }

    public static let criterion = "Accuracy"
    /// Rubric version of rule judgments: 2 reads the final answer (markers, boxed, dates).
    public static let version = "2"

    /// A rule's verdict on one output: the score, the answers compared, and a reason that says hit or miss.
    public struct Verdict: Sendable, Equatable {
        public var score: Int
        /// The final answer read from the output (nil when nothing could be).
        public var extracted: String?
        /// The reference's answer as compared.
        public var expected: String?
        public var reason: String
    }

    /// Score and what was extracted from the output (nil when nothing could be).
    public static func score(_ record: GenerationRecord, mode: Mode) -> (score: Int, extracted: String?) {
        let v = verdict(record, mode: mode)
        return (v.score, v.extracted)
    }

    /// Reads the final answer of output and reference the way the harvest's answer check does (`\boxed{}`, "Therefore,
    /// the answer is", "答案：", "####", else the last line), then compares by `mode`: dates and numbers as values.
    public static func verdict(_ record: GenerationRecord, mode: Mode) -> Verdict {
        let got = AnswerExtraction.finalAnswer(in: record.generateOutput)
        let want = AnswerExtraction.finalAnswer(in: record.referenceOutput)
        var v: Verdict
        switch mode {
        case .exact:
            let g = got?.text ?? "", w = want?.text ?? ""
            let same = !g.isEmpty && (normalise(g) == normalise(w) || sameValue(g, w))
            v = Verdict(score: same ? 1 : 0, extracted: got?.text, expected: want?.text, reason: "")
        case .numeric:
            v = numeric(got, want, whole: record.generateOutput)
        case .choice:
            let g = got.flatMap { $0.source == .lastLine ? nil : choiceLetter($0.text) } ?? choiceLetter(record.generateOutput)
            let w = want.flatMap { choiceLetter($0.text) } ?? choiceLetter(record.referenceOutput)
            v = Verdict(score: g != nil && g == w ? 1 : 0, extracted: g.map(String.init), expected: w.map(String.init), reason: "")
        }
        let compared = "extracted \(v.extracted.map { "'\($0)'" } ?? "nothing"), expected \(v.expected.map { "'\($0)'" } ?? "nothing")"
        v.reason = "\(mode.rawValue) \(v.score == 1 ? "match" : "miss"): \(compared)"
        return v
    }

    /// Dates compare as dates when the reference is one; otherwise numbers as values. The output's number is the
    /// whole answer when it is one number, else the first number after a marker, else the last number of the output.
    static func numeric(_ got: AnswerExtraction.FinalAnswer?, _ want: AnswerExtraction.FinalAnswer?, whole: String) -> Verdict {
        let wantText = want?.text ?? ""
        if let wantDate = AnswerExtraction.dates(in: wantText).last {
            let dates = AnswerExtraction.dates(in: got?.text ?? "")
            let g = got?.source == .lastLine ? dates.last ?? AnswerExtraction.dates(in: whole).last : dates.first
            return Verdict(score: g == wantDate ? 1 : 0, extracted: g?.description ?? got?.text, expected: wantDate.description, reason: "")
        }
        guard let w = AnswerExtraction.number(wantText) ?? AnswerExtraction.numbers(in: wantText).last else {
            return Verdict(score: 0, extracted: got?.text, expected: nil, reason: "")
        }
        let text = got?.text ?? ""
        let inAnswer = AnswerExtraction.numbers(in: text)
        let g = AnswerExtraction.number(text)
            ?? (got?.source == .lastLine ? inAnswer.last ?? lastNumber(whole) : inAnswer.first)
        let hit = g.map { abs($0 - w) <= 1e-6 * max(1, abs(w)) } ?? false
        return Verdict(score: hit ? 1 : 0, extracted: g.map(format), expected: format(w), reason: "")
    }

    /// Both read wholly as the same number (`42.0` and `42`) or hold the same single date.
    static func sameValue(_ a: String, _ b: String) -> Bool {
        if let x = AnswerExtraction.number(a), let y = AnswerExtraction.number(b) { return abs(x - y) <= 1e-9 * max(1, abs(y)) }
        let da = AnswerExtraction.dates(in: a), db = AnswerExtraction.dates(in: b)
        return da.count == 1 && da == db && onlyADate(a) && onlyADate(b)
    }

    /// Nothing but a date's digits, month name and separators: "2022年5月20日", "May 20th, 2022" (not "2022-05-20, I think").
    static func onlyADate(_ s: String) -> Bool {
        AnswerExtraction.normalise(s).split(separator: " ").allSatisfy { word in
            word.allSatisfy { $0.isNumber || "年月日号".contains($0) } || word.dropFirst().allSatisfy { "stndrh".contains($0) } && word.first?.isNumber == true
                || AnswerExtraction.monthNames.contains { word.hasPrefix($0) }
        }
    }

    /// `42` rather than `42.0`.
    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    static func normalise(_ s: String) -> String { AnswerExtraction.normalise(s) }

    /// The last number written in the text: `-1,234.5` → -1234.5, `3/4` → 0.75, `50%` → 50, `2022-05-20` → 20.
    static func lastNumber(_ s: String) -> Double? { AnswerExtraction.numbers(in: s).last }

    /// The option letter a model chose (see `AnswerExtraction.choiceLetter(in:)`).
    static func choiceLetter(_ s: String) -> Character? { AnswerExtraction.choiceLetter(in: s) }

    /// Scores every item of every input into journal lines (no network; repeats are pointless here).
    public static func judgments(inputs: [JudgeInput], mode: Mode) throws -> [Judgment] {
        var out: [Judgment] = []
        let time = ISO8601DateFormatter().string(from: Date())
        for input in inputs {
            for (i, r) in try DatasetReader.read(GenerationRecord.self, from: input.path).enumerated() {
                let v = verdict(r, mode: mode)
                out.append(Judgment(
                    key: SHA256.hex("rule-\(mode.rawValue)\u{0}\(input.label)\u{0}\(i)\u{0}\(r.referenceOutput)\u{0}\(r.generateOutput)"),
                    model: input.label, item: i, repeatIndex: 0, status: .scored, scores: [criterion: v.score], partialScores: nil,
                    reason: v.reason, step: .rule, problems: [], attempts: [],
                    error: nil, instruction: r.instruction, input: r.input, referenceOutput: r.referenceOutput,
                    generateOutput: r.generateOutput, judgeModel: "rule:\(mode.rawValue)", rubric: "accuracy-\(mode.rawValue)",
                    rubricVersion: version, time: time, extractedAnswer: v.extracted, category: r.category))
            }
        }
        return out
    }
}
