import Foundation

/// The report as Markdown: seed 000's results table (model, Valid Data, one column per criterion) with bootstrap CIs,
/// then validity, paired comparisons, retention, judge spread and warnings.
public enum MarkdownReport {
    public static func render(_ s: EvaluationSummary, title: String = "Evaluation report") -> String {
        var out = "# \(title)\n\n"
        out += ReportFormat.provenance(s).map { $0 + "  \n" }.joined() + "\n"
        if !s.warnings.isEmpty {
            out += "## Warnings\n\n" + s.warnings.map { "- ⚠ \($0)\n" }.joined() + "\n"
        }
        out += "## Results\n\n" + resultsOnly(s)
        let cols = ReportTables.columns(s)
        out += "\nMeans over each model's valid items, with percentile-bootstrap 95% confidence intervals. "
            + "Valid Data: items for which the judge returned a usable score on every criterion (unscored items are "
            + "left out, never counted as 0).\n\n"
        if !s.pairwise.isEmpty {
            let t = ReportTables.pairwise(s)
            out += "## Against \(cell(s.pairwiseBaseline ?? "the baseline"))\n\n" + ReportTables.markdown(t.header, t.rows)
                + "\n" + ReportTables.pairwiseNote(s) + "\n\n"
        }
        if !s.tasks.isEmpty {
            let t = ReportTables.tasks(s)
            out += "## Per task\n\nMean per-item score on each task's valid items (valid / items).\n\n" + ReportTables.markdown(t.header, t.rows) + "\n"
        }

        out += "## Validity\n\n| Model | Items | Valid | % valid | Invalid, by reason | Scored at | "
            + s.criteria.map { "\($0) valid" }.joined(separator: " | ") + " | Inter-criterion r |\n"
        out += "| --- | --: | --: | --: | --- | --- | " + s.criteria.map { _ in "--:" }.joined(separator: " | ") + " | --: |\n"
        for m in s.models {
            out += "| \(cell(m.label)) | \(m.nTotal) | \(m.nValid) | \(ReportFormat.percent(m.nValid, m.nTotal)) | "
                + "\(ReportFormat.reasons(m.invalidReasons)) | \(ReportFormat.reasons(m.steps)) | "
                + m.criteria.map { "\($0.nValid)" }.joined(separator: " | ") + " | \(ReportFormat.ratio(m.interCriterionCorrelation)) |\n"
        }
        out += "\nInter-criterion r: mean Pearson correlation between criteria; near 1, the judge scores one overall impression "
            + "(halo) rather than separate criteria.\n\n"

        if !s.comparisons.isEmpty {
            out += "## Paired comparisons\n\nOn the \(s.completeCaseItems) items valid for every model. Δ = mean(A − B) with a paired "
                + "bootstrap 95% CI; Wilcoxon signed-rank p (as scipy.stats.wilcoxon), and Holm-adjusted over all rows.\n\n"
            out += "| A | B | Criterion | Δ [95% CI] | Wilcoxon p | Holm p |\n| --- | --- | --- | :--: | --: | --: |\n"
            for c in s.comparisons {
                out += "| \(cell(c.a)) | \(cell(c.b)) | \(c.criterion) | \(ReportFormat.signed(c.difference.estimate)) "
                    + "[\(ReportFormat.signed(c.difference.low)), \(ReportFormat.signed(c.difference.high))] | "
                    + "\(ReportFormat.p(c.wilcoxonP)) | \(ReportFormat.p(c.adjustedP)) |\n"
            }
            out += "\n"
        }
        if !s.retention.isEmpty, let teacher = s.teacherLabel {
            let gap = s.baselineLabel.map { " · gap closed = (student − \($0)) / (\(teacher) − \($0))" } ?? ""
            out += "## Retention\n\nretention = student / \(teacher)\(gap), on complete-case means.\n\n"
            out += "| Model | " + cols.joined(separator: " | ") + " |\n| --- | " + cols.map { _ in "--:" }.joined(separator: " | ") + " |\n"
            for label in uniqueLabels(s.retention.map(\.label)) {
                let row = cols.map { c -> String in
                    guard let r = s.retention.first(where: { $0.label == label && $0.criterion == c }) else { return "–" }
                    return ReportFormat.ratio(r.retention) + (r.gapClosed.map { " (gap \(ReportFormat.ratio($0)))" } ?? "")
                }
                out += "| \(cell(label)) | " + row.joined(separator: " | ") + " |\n"
            }
            out += "\n"
        }
        if !s.spread.isEmpty {
            out += "## Judge consistency over repeats\n\n| Model | Criterion | Items | All repeats agree | Mean within-item SD |\n"
                + "| --- | --- | --: | --: | --: |\n"
            for sp in s.spread {
                out += "| \(cell(sp.label)) | \(sp.criterion) | \(sp.items) | \(String(format: "%.1f%%", 100 * sp.agreement)) | "
                    + "\(ReportFormat.score(sp.meanStandardDeviation)) |\n"
            }
            out += "\n"
        }
        return out
    }

    /// Just seed 000's table: model, Valid Data, one column per criterion (mean [95% CI]), and Overall.
    public static func resultsOnly(_ s: EvaluationSummary) -> String {
        let cols = ReportTables.columns(s)
        var out = "| Method (Loss_fn) | Valid Data | " + cols.joined(separator: " | ") + " |\n"
        out += "| :--: | :--: | " + cols.map { _ in ":--:" }.joined(separator: " | ") + " |\n"
        for m in s.models {
            let cells = m.criteria.map { ReportFormat.interval($0.mean) } + (s.criteria.count > 1 ? [ReportFormat.interval(m.overall)] : [])
            out += "| \(cell(m.label)) | \(m.nValid) / \(m.nTotal) | " + cells.joined(separator: " | ") + " |\n"
        }
        return out
    }

    static func uniqueLabels(_ labels: [String]) -> [String] {
        var seen: [String] = []
        for l in labels where !seen.contains(l) { seen.append(l) }
        return seen
    }

    /// A table cell: pipes escaped, newlines flattened.
    static func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
