import DistillData
import Foundation

/// Scoring without a judge, for tasks with one right answer: exact match, numeric match, or multiple-choice letter.
/// Produces ordinary judgments with one criterion, `Accuracy`, on a 0–1 scale, so reports and statistics are the same.
///
/// An output with no extractable answer scores 0: that is the model failing the task, not the scorer failing to read
/// it, so it is not "invalid" the way an unparseable judge reply is.
public enum AnswerScorer {
    public enum Mode: String, Sendable, CaseIterable {
        /// Equal after `AnswerExtraction.normalise`: case and width folding, punctuation, articles and extra spaces ignored.
        case exact
        /// The last number in the output equals the reference's number (relative tolerance 1e-6).
        case numeric
        /// The chosen option letter (A–J) equals the reference's letter.
        case choice
    }

    public static let criterion = "Accuracy"

    /// Score and what was extracted from the output (nil when nothing could be).
    public static func score(_ record: GenerationRecord, mode: Mode) -> (score: Int, extracted: String?) {
        switch mode {
        case .exact:
            let got = normalise(record.generateOutput)
            return (got == normalise(record.referenceOutput) ? 1 : 0, got)
        case .numeric:
            guard let got = lastNumber(record.generateOutput) else { return (0, nil) }
            guard let want = lastNumber(record.referenceOutput) else { return (0, String(got)) }
            return (abs(got - want) <= 1e-6 * max(1, abs(want)) ? 1 : 0, String(got))
        case .choice:
            guard let got = choiceLetter(record.generateOutput) else { return (0, nil) }
            return (got == choiceLetter(record.referenceOutput) ? 1 : 0, String(got))
        }
    }

    static func normalise(_ s: String) -> String { AnswerExtraction.normalise(s) }

    /// The last number written in the text (the judge's policy: a free answer ends with its result):
    /// `-1,234.5` → -1234.5, `3/4` → 0.75, `50%` → 50, `2022-05-20` → 20.
    static func lastNumber(_ s: String) -> Double? { AnswerExtraction.numbers(in: s).last }

    /// The option letter a model chose (see `AnswerExtraction.choiceLetter(in:)`).
    static func choiceLetter(_ s: String) -> Character? { AnswerExtraction.choiceLetter(in: s) }

    /// Scores every item of every input into journal lines (no network; repeats are pointless here).
    public static func judgments(inputs: [JudgeInput], mode: Mode) throws -> [Judgment] {
        var out: [Judgment] = []
        let time = ISO8601DateFormatter().string(from: Date())
        for input in inputs {
            for (i, r) in try DatasetReader.read(GenerationRecord.self, from: input.path).enumerated() {
                let (score, extracted) = score(r, mode: mode)
                out.append(Judgment(
                    key: SHA256.hex("rule-\(mode.rawValue)\u{0}\(input.label)\u{0}\(i)\u{0}\(r.referenceOutput)\u{0}\(r.generateOutput)"),
                    model: input.label, item: i, repeatIndex: 0, status: .scored, scores: [criterion: score], partialScores: nil,
                    reason: "\(mode.rawValue) match; extracted: \(extracted ?? "nothing")", step: .rule, problems: [], attempts: [],
                    error: nil, instruction: r.instruction, input: r.input, referenceOutput: r.referenceOutput,
                    generateOutput: r.generateOutput, judgeModel: "rule:\(mode.rawValue)", rubric: "accuracy-\(mode.rawValue)",
                    rubricVersion: "1", time: time))
            }
        }
        return out
    }
}
