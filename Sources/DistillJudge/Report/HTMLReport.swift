import Foundation

/// The report as one self-contained HTML file: inline CSS and SVG, one small inline script (the drill-down filter;
/// without it every item shows), no external assets (it opens offline and can be mailed). Every piece of text from the data — outputs, judge replies, labels — is HTML-escaped.
public enum HTMLReport {
    public static func render(_ s: EvaluationSummary, judgments: [Judgment], title: String = "Evaluation report") -> String {
        var body = "<h1>\(escape(title))</h1>\n<p class=\"meta\">"
            + ReportFormat.provenance(s).map { escape($0.replacingOccurrences(of: "`", with: "")) }.joined(separator: "<br>") + "</p>\n"
        if !s.warnings.isEmpty {
            body += "<section class=\"warnings\"><h2>Warnings</h2><ul>" + s.warnings.map { "<li>⚠ \(escape($0))</li>" }.joined() + "</ul></section>\n"
        }
        body += "<h2>Results</h2>\n" + resultsTable(s)
        body += "<p class=\"note\">Means over each model's valid items; whiskers and brackets are percentile-bootstrap 95% CIs. "
            + "Valid Data counts items the judge scored on every criterion; unscored items are left out, never counted as 0.</p>\n"
        body += "<figure>\(SVGCharts.meansChart(s))<figcaption>Mean score per criterion with 95% CI</figcaption></figure>\n"
        if !s.pairwise.isEmpty {
            let t = ReportTables.pairwise(s)
            body += "<h2>Against \(escape(s.pairwiseBaseline ?? "the baseline"))</h2>\n" + table(t.header, t.rows, swatches: true, nowrap: true)
                + "<p class=\"note\">\(escape(ReportTables.pairwiseNote(s)))</p>\n"
        }
        if !s.tasks.isEmpty {
            let t = ReportTables.tasks(s)
            body += "<h2>Per task</h2>\n<p class=\"note\">Mean per-item score on each task's valid items (valid / items).</p>\n" + table(t.header, t.rows)
        }
        body += "<h2>Validity</h2>\n" + validityTable(s)
        body += "<h2>Score distributions</h2>\n" + histograms(s)
        if !s.comparisons.isEmpty {
            body += "<h2>Paired comparisons</h2>\n<p class=\"note\">On the \(s.completeCaseItems) items valid for every model. "
                + "Δ = mean(A − B) with a paired bootstrap 95% CI; Wilcoxon signed-rank p (as scipy.stats.wilcoxon); Holm-adjusted p over all rows.</p>\n"
            body += table(["A", "B", "Criterion", "Δ [95% CI]", "Wilcoxon p", "Holm p"], s.comparisons.map { c in
                [c.a, c.b, c.criterion, "\(ReportFormat.signed(c.difference.estimate)) [\(ReportFormat.signed(c.difference.low)), \(ReportFormat.signed(c.difference.high))]",
                 ReportFormat.p(c.wilcoxonP), ReportFormat.p(c.adjustedP)]
            })
        }
        if !s.retention.isEmpty, let teacher = s.teacherLabel {
            let cols = ReportTables.columns(s)
            body += "<h2>Retention</h2>\n<p class=\"note\">retention = student / \(escape(teacher))"
                + (s.baselineLabel.map { "; gap closed = (student − \(escape($0))) / (\(escape(teacher)) − \(escape($0)))" } ?? "")
                + ", on complete-case means.</p>\n"
            body += table(["Model"] + cols, MarkdownReport.uniqueLabels(s.retention.map(\.label)).map { label in
                [label] + cols.map { c in
                    guard let r = s.retention.first(where: { $0.label == label && $0.criterion == c }) else { return "–" }
                    return ReportFormat.ratio(r.retention) + (r.gapClosed.map { " (gap \(ReportFormat.ratio($0)))" } ?? "")
                }
            })
        }
        if !s.spread.isEmpty {
            body += "<h2>Judge consistency over repeats</h2>\n" + table(["Model", "Criterion", "Items", "All repeats agree", "Mean within-item SD"],
                s.spread.map { [$0.label, $0.criterion, "\($0.items)", String(format: "%.1f%%", 100 * $0.agreement), ReportFormat.score($0.meanStandardDeviation)] })
        }
        body += itemsSection(s, judgments)
        return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>\(escape(title))</title><style>\(css)</style></head><body>\n\(body)</body></html>\n"
    }

    static func resultsTable(_ s: EvaluationSummary) -> String {
        table(["Method (Loss_fn)", "Valid Data"] + ReportTables.columns(s), s.models.map { m in
            [m.label, "\(m.nValid) / \(m.nTotal)"] + m.criteria.map { ReportFormat.interval($0.mean) }
                + (s.criteria.count > 1 ? [ReportFormat.interval(m.overall)] : [])
        }, swatches: true)
    }

    static func validityTable(_ s: EvaluationSummary) -> String {
        table(["Model", "Items", "Valid", "% valid", "Invalid, by reason", "Scored at"] + s.criteria.map { "\($0) valid" }
              + ["Inter-criterion r"], s.models.map { m in
            [m.label, "\(m.nTotal)", "\(m.nValid)", ReportFormat.percent(m.nValid, m.nTotal), ReportFormat.reasons(m.invalidReasons),
             ReportFormat.reasons(m.steps)] + m.criteria.map { "\($0.nValid)" } + [ReportFormat.ratio(m.interCriterionCorrelation)]
        }, swatches: true) + "<p class=\"note\">Inter-criterion r: mean Pearson correlation between criteria; near 1, the judge "
            + "scores one overall impression (halo) rather than separate criteria.</p>\n"
    }

    static func histograms(_ s: EvaluationSummary) -> String {
        var out = ""
        for (mi, m) in s.models.enumerated() {
            let peak = m.criteria.flatMap(\.histogram).max() ?? 1
            out += "<h3><span class=\"swatch\" style=\"background:\(SVGCharts.colour(mi))\"></span>\(escape(m.label))</h3><div class=\"hists\">"
            for c in m.criteria {
                out += "<figure>" + SVGCharts.histogram(c.histogram, scaleMin: s.scaleMin, colour: SVGCharts.colour(mi),
                                                        title: "\(m.label) \(c.criterion) histogram", sharedMax: peak)
                out += "<figcaption>\(escape(c.criterion)) · median \(ReportFormat.score(c.median)) · n \(c.histogram.reduce(0, +))</figcaption></figure>"
            }
            out += "</div>\n"
        }
        return out
    }

    /// A table of escaped cells; with `swatches`, the first column gets the model's chart colour.
    static func table(_ header: [String], _ rows: [[String]], swatches: Bool = false, nowrap: Bool = false) -> String {
        var out = "<table\(nowrap ? " class=\"nowrap\"" : "")><thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (i, row) in rows.enumerated() {
            out += "<tr>" + row.enumerated().map { k, cell in
                let swatch = swatches && k == 0 ? "<span class=\"swatch\" style=\"background:\(SVGCharts.colour(i))\"></span>" : ""
                return "<td>\(swatch)\(escape(cell))</td>"
            }.joined() + "</tr>"
        }
        return out + "</tbody></table>\n"
    }

    /// Escapes text for HTML element content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static let css = """
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1b1f24}
    h1{font-size:26px;margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{margin:18px 0 6px}
    .meta{color:#57606a;margin-top:0}.note{color:#57606a;font-size:13px}
    table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:center}
    th{background:#f6f8fa}td:first-child{text-align:left;white-space:nowrap}
    .swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:baseline}
    .warnings{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:4px 16px}.warnings h2{border:0;margin-top:8px}
    figure{margin:8px 0}figcaption{font-size:13px;color:#57606a;text-align:center}
    .chart{width:100%;max-width:960px;height:auto}.hists{display:flex;flex-wrap:wrap;gap:12px}.hist{width:200px;height:110px}
    svg text{font:12px system-ui,sans-serif;fill:#1b1f24}svg .axis{font-weight:600}svg .tick{fill:#57606a;font-size:11px}svg .count{font-size:10px;fill:#57606a}
    svg .grid{stroke:#d0d7de;stroke-width:1}svg .whisker{stroke:#1b1f24;stroke-width:1.5;fill:none}
    details.item{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:4px 10px}details.item[open]{background:#fbfcfd}
    table.nowrap td{white-space:nowrap}
    .filter{display:flex;flex-wrap:wrap;gap:14px;align-items:center;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;margin:8px 0}
    .filter select,.filter input{font:inherit}pre.answer{background:#eef6ee}
    details.item>summary{cursor:pointer}.idx{font-weight:600;margin-right:6px}.badge{display:inline-block;border-radius:10px;padding:0 7px;margin-left:6px;font-size:12px;color:#fff}
    .badge.bad{background:#cf222e!important}.model{border-left:4px solid;padding:2px 10px;margin:10px 0}
    pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;border-radius:4px;padding:6px 8px;margin:4px 0;font:13px/1.4 ui-monospace,"Noto Sans Mono",monospace}
    .label{font-weight:600;color:#57606a;font-size:12px;text-transform:uppercase;margin-top:6px}.problems{color:#cf222e}.label .problems{text-transform:none;font-weight:400}
    """
}
