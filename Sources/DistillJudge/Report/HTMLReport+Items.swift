import Foundation

extension HTMLReport {
    /// Per-item drill-down: instruction, input and reference once, then each model's output, scores, the judge's reason
    /// and every raw judge reply (repairs and re-samples included), all escaped.
    static func itemsSection(_ s: EvaluationSummary, _ judgments: [Judgment]) -> String {
        let effective = CSVReport.effective(judgments)
        let labels = s.models.map(\.label)
        var byItem: [Int: [Judgment]] = [:]
        for j in effective { byItem[j.item, default: []].append(j) }
        var out = "<h2>Items</h2>\n<p class=\"note\">\(byItem.count) items. Click one to see the outputs, scores and raw judge replies.</p>\n"
        for item in byItem.keys.sorted() {
            guard let js = byItem[item], let first = js.first else { continue }
            let excerpt = first.instruction.count > 90 ? String(first.instruction.prefix(90)) + "…" : first.instruction
            out += "<details class=\"item\" id=\"item-\(item)\"><summary><span class=\"idx\">#\(item)</span>\(escape(excerpt))"
            for (mi, label) in labels.enumerated() {
                for j in js where j.model == label && j.repeatIndex == 0 {
                    let text = j.isScored ? s.criteria.map { c in j.scores?[c].map(String.init) ?? "–" }.joined(separator: "·")
                        : (j.problems.first?.reason.rawValue ?? j.status.rawValue)
                    out += "<span class=\"badge\(j.isScored ? "" : " bad")\" style=\"background:\(SVGCharts.colour(mi))\" title=\"\(escape(label))\">"
                        + "\(escape(label)): \(escape(text))</span>"
                }
            }
            out += "</summary>\n"
            out += "<div class=\"label\">Instruction</div><pre>\(escape(first.instruction))</pre>"
            if !first.input.isEmpty { out += "<div class=\"label\">Input</div><pre>\(escape(first.input))</pre>" }
            out += "<div class=\"label\">Reference output</div><pre>\(escape(first.referenceOutput))</pre>"
            for (mi, label) in labels.enumerated() {
                for j in js where j.model == label { out += modelBlock(j, criteria: s.criteria, colour: SVGCharts.colour(mi)) }
            }
            out += "</details>\n"
        }
        return out
    }

    static func modelBlock(_ j: Judgment, criteria: [String], colour: String) -> String {
        var out = "<div class=\"model\" style=\"border-color:\(colour)\"><h4>\(escape(j.model))"
            + (j.repeatIndex > 0 ? " · repeat \(j.repeatIndex + 1)" : "") + "</h4>"
        out += "<div class=\"label\">Generated output</div><pre>\(escape(j.generateOutput))</pre>"
        if let scores = j.scores {
            out += "<table><tr>" + criteria.map { "<th>\(escape($0))</th>" }.joined() + "<th>status</th></tr><tr>"
                + criteria.map { "<td>\(scores[$0].map(String.init) ?? "–")</td>" }.joined()
                + "<td>scored (\(escape(j.step?.rawValue ?? "?")))</td></tr></table>"
        } else {
            out += "<p class=\"problems\">\(escape(j.status.rawValue)): " + escape(j.problems.map(\.description).joined(separator: "; ")) + "</p>"
            if let partial = j.partialScores, !partial.isEmpty {
                out += "<p class=\"note\">Criteria that did validate (not averaged): "
                    + escape(criteria.compactMap { c in partial[c].map { "\(c) \($0)" } }.joined(separator: ", ")) + "</p>"
            }
        }
        if let reason = j.reason { out += "<div class=\"label\">Judge's reason</div><pre>\(escape(reason))</pre>" }
        if !j.attempts.isEmpty {
            out += "<details><summary>Raw judge replies (\(j.attempts.count))</summary>"
            for (k, a) in j.attempts.enumerated() {
                let problems = a.problems.isEmpty ? "" : " · " + a.problems.map(\.description).joined(separator: "; ")
                out += "<div class=\"label\">\(k + 1). \(escape(a.kind.rawValue)) · \(escape(a.format.rawValue)) · finish \(escape(a.finishReason ?? "?"))"
                    + (a.rung.map { " · parsed \(escape($0.rawValue))" } ?? "") + "<span class=\"problems\">\(escape(problems))</span></div>"
                out += "<pre>\(escape(a.reply))</pre>"
            }
            out += "</details>"
        }
        if let e = j.error { out += "<div class=\"label\">Error</div><pre>\(escape(e))</pre>" }
        return out + "</div>\n"
    }
}
