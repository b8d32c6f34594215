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
        out += filterForm(labels: labels, criteria: s.criteria, items: byItem.count)
        for item in byItem.keys.sorted() {
            guard let js = byItem[item], let first = js.first else { continue }
            let excerpt = first.instruction.count > 90 ? String(first.instruction.prefix(90)) + "…" : first.instruction
            out += "<details class=\"item\" id=\"item-\(item)\"><summary><span class=\"idx\">#\(item)</span>\(escape(excerpt))"
            for (mi, label) in labels.enumerated() {
                for j in js where j.model == label && j.repeatIndex == 0 {
                    let text = j.isScored ? s.criteria.map { c in j.scores?[c].map(String.init) ?? "–" }.joined(separator: "·")
                        : (j.problems.first?.reason.rawValue ?? j.status.rawValue)
                    out += "<span class=\"badge\(j.isScored ? "" : " bad")\" data-model=\"\(escape(label))\" style=\"background:\(SVGCharts.colour(mi))\" title=\"\(escape(label))\">"
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
        return out + "<script>\(filterScript)</script>\n"
    }

    static func modelBlock(_ j: Judgment, criteria: [String], colour: String) -> String {
        // The filter reads these: which model, whether scored, and each criterion's score (partial ones included).
        let shown = j.scores ?? j.partialScores ?? [:]
        let data = criteria.enumerated().compactMap { k, c in shown[c].map { " data-c\(k)=\"\($0)\"" } }.joined()
        var out = "<div class=\"model\" data-model=\"\(escape(j.model))\" data-status=\"\(j.status.rawValue)\"\(data) style=\"border-color:\(colour)\"><h4>\(escape(j.model))"
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
        if let answer = j.extractedAnswer {
            out += "<div class=\"label\">Extracted answer</div><pre class=\"answer\">\(escape(answer))</pre>"
        }
        if let reason = j.reason {
            out += "<div class=\"label\">\(j.step == .rule ? "Rule" : "Judge's reason")</div><pre>\(escape(reason))</pre>"
        }
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

    /// The drill-down filter: by model, by a criterion's score, unscored only. Without scripts every item shows.
    static func filterForm(labels: [String], criteria: [String], items: Int) -> String {
        let models = labels.map { "<option value=\"\(escape($0))\">\(escape($0))</option>" }.joined()
        let crits = criteria.enumerated().map { "<option value=\"\($0.offset)\">\(escape($0.element))</option>" }.joined()
        return "<form class=\"filter\" id=\"item-filter\" onsubmit=\"return false\">"
            + "<label>Model <select id=\"f-model\"><option value=\"\">all</option>\(models)</select></label>"
            + "<label>Criterion <select id=\"f-crit\"><option value=\"\">any</option>\(crits)</select></label>"
            + "<label>score ≤ <input id=\"f-max\" type=\"number\" step=\"any\" size=\"3\"></label>"
            + "<label><input id=\"f-unscored\" type=\"checkbox\"> unscored only</label>"
            + "<span id=\"f-count\" class=\"note\">\(items) of \(items) items shown</span></form>\n"
    }

    /// Plain JavaScript, no libraries: hides items (and other models' blocks) that do not match the filter.
    static let filterScript = """
    (function(){var $=function(i){return document.getElementById(i)};function apply(){var m=$('f-model').value,c=$('f-crit').value,\
    mx=parseFloat($('f-max').value),u=$('f-unscored').checked,items=document.querySelectorAll('details.item'),shown=0;\
    items.forEach(function(d){var any=false;d.querySelectorAll('div.model').forEach(function(b){var mine=m===''||b.dataset.model===m;\
    b.style.display=mine?'':'none';if(!mine)return;if(u&&b.dataset.status==='scored')return;if(c!==''){var v=b.dataset['c'+c];\
    if(v===undefined&&!u)return;if(!isNaN(mx)&&!(parseFloat(v)<=mx))return;}any=true;});\
    d.querySelectorAll('.badge').forEach(function(g){g.style.display=(m===''||g.dataset.model===m)?'':'none';});\
    d.style.display=any?'':'none';if(any)shown++;});$('f-count').textContent=shown+' of '+items.length+' items shown';}\
    ['f-model','f-crit','f-max','f-unscored'].forEach(function(i){$(i).addEventListener('input',apply);$(i).addEventListener('change',apply);});})();
    """
}
