import Foundation

/// The tables the Markdown and HTML reports share (header and text cells), so both print the same digits.
enum ReportTables {
    /// The criteria columns of the results table: with one criterion, "Overall" would repeat it.
    static func columns(_ s: EvaluationSummary) -> [String] { s.criteria.count > 1 ? s.criteria + ["Overall"] : s.criteria }

    /// Each model against the baseline: mean output length, win / tie / loss, win rate, the raw and the
    /// length-controlled difference.
    static func pairwise(_ s: EvaluationSummary) -> (header: [String], rows: [[String]]) {
        let header = ["Model", "Avg length", "Win / tie / loss", "Win rate", "Δ [95% CI]", "Length-controlled Δ [95% CI]", "Δ per doubling of length"]
        let rows = s.models.map { m -> [String] in
            let length = m.meanOutputLength.isNaN ? "–" : String(format: "%.0f", m.meanOutputLength)
            guard let p = s.pairwise.first(where: { $0.label == m.label }) else {
                return [m.label, length] + (m.label == s.pairwiseBaseline ? ["baseline", "–", "–", "–", "–"] : ["–", "–", "–", "–", "–"])
            }
            return [m.label, length, "\(p.wins) / \(p.ties) / \(p.losses)", p.winRate.isNaN ? "–" : String(format: "%.1f%%", 100 * p.winRate),
                    signedInterval(p.difference), signedInterval(p.lengthControlled), ReportFormat.signed(p.perDoubling)]
        }
        return (header, rows)
    }

    /// What the pairwise table compares, in one sentence.
    static func pairwiseNote(_ s: EvaluationSummary) -> String {
        let criterion = s.pairwise.first?.criterion ?? "Overall"
        return "Against \(s.pairwiseBaseline ?? "the baseline") on the \(s.completeCaseItems) complete-case items, per-item \(criterion) score. "
            + "Win rate = (wins + ties/2) / n. Avg length: mean output length in characters (Unicode scalars) over judged items. "
            + "Length-controlled Δ: the intercept of a least-squares fit of the per-item difference on ln((1+len)/(1+len_baseline)), "
            + "i.e. the difference at equal length (a simple regression adjustment, not AlpacaEval 2's GLM); "
            + "Δ per doubling is the fitted slope × ln 2 (judges favour long answers when it is positive)."
    }

    /// Per task: each model's mean (valid / items).
    static func tasks(_ s: EvaluationSummary) -> (header: [String], rows: [[String]]) {
        let labels = s.models.map(\.label)
        var names: [String] = []
        for t in s.tasks where !names.contains(t.task) { names.append(t.task) }
        let rows = names.map { task in
            [task] + labels.map { label in
                guard let t = s.tasks.first(where: { $0.task == task && $0.label == label }) else { return "–" }
                return "\(ReportFormat.score(t.mean)) (\(t.nValid)/\(t.nTotal))"
            }
        }
        return (["Task"] + labels, rows)
    }

    static func signedInterval(_ i: Interval) -> String {
        i.estimate.isNaN ? "–" : "\(ReportFormat.signed(i.estimate)) [\(ReportFormat.signed(i.low)), \(ReportFormat.signed(i.high))]"
    }

    /// A Markdown table; cells are flattened to one line with pipes escaped.
    static func markdown(_ header: [String], _ rows: [[String]]) -> String {
        var out = "| " + header.map(MarkdownReport.cell).joined(separator: " | ") + " |\n"
        out += "| --- | " + header.dropFirst().map { _ in "--:" }.joined(separator: " | ") + " |\n"
        for row in rows { out += "| " + row.map(MarkdownReport.cell).joined(separator: " | ") + " |\n" }
        return out
    }
}
