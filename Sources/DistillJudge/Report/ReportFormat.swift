import Foundation

/// Number formatting shared by the Markdown, HTML and CSV reports, so all three print the same digits.
enum ReportFormat {
    static func score(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.2f", x) }

    static func interval(_ i: Interval) -> String {
        i.estimate.isNaN ? "–" : "\(score(i.estimate)) [\(score(i.low)), \(score(i.high))]"
    }

    static func signed(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%+.2f", x) }

    static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "–" : String(format: "%.1f%%", 100 * Double(part) / Double(whole))
    }

    static func p(_ p: Double?) -> String {
        guard let p, !p.isNaN else { return "–" }
        return p < 0.001 ? String(format: "%.1e", p) : String(format: "%.3f", p)
    }

    static func ratio(_ x: Double?) -> String {
        guard let x, !x.isNaN, x.isFinite else { return "–" }
        return String(format: "%.2f", x)
    }

    /// "out-of-range 3, missing-key 1", largest first.
    static func reasons(_ r: [String: Int]) -> String {
        r.isEmpty ? "–" : r.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// The header facts: judge, rubric, format, repeats.
    static func provenance(_ s: EvaluationSummary) -> [String] {
        guard let m = s.manifest else { return ["Judge: unknown (no \(JudgeManifest.fileName) next to the judgments)"] }
        // Rule-based scoring has no endpoint, and neither sampling settings nor repeats mean anything for it.
        let judgeLine = m.endpoint.isEmpty
            ? "Judge: `\(m.judgeModel)` (scored by rule, no judge model)"
            : "Judge: `\(m.judgeModel)` at \(m.endpoint) · reply format \(m.replyFormat) · temperature \(m.temperature)"
                + " · repeats \(m.repeats)"
        var lines = [judgeLine,
                     "Rubric: \(m.rubric) (\(m.criteria.joined(separator: ", ")); \(m.scaleMin)–\(m.scaleMax)) · version \(m.rubricVersion.prefix(12))"]
        if let t = s.teacherLabel {
            lines.append("Teacher: \(t)" + (m.teacherModel.map { " (`\($0)`)" } ?? "") + (s.baselineLabel.map { " · baseline: \($0)" } ?? ""))
        }
        return lines
    }
}
