import Foundation

/// One row per judgment line that counts (latest scored, else latest, per model × item × repeat), RFC 4180 quoted,
/// for spreadsheets and pandas.
public enum CSVReport {
    public static func render(_ judgments: [Judgment], criteria: [String]) -> String {
        var header = ["model", "item", "repeat", "status", "step"] + criteria
        header += ["invalid_reason", "problems", "judge_reason", "instruction", "input", "reference_output", "generate_output", "extracted_answer"]
        var rows = [header.map(quote).joined(separator: ",")]
        for j in CSVReport.effective(judgments) {
            var row = [j.model, String(j.item), String(j.repeatIndex), j.status.rawValue, j.step?.rawValue ?? ""]
            row += criteria.map { c in j.scores?[c].map(String.init) ?? "" }
            row += [j.problems.first?.reason.rawValue ?? "", j.problems.map(\.description).joined(separator: "; "), j.reason ?? "",
                    j.instruction, j.input, j.referenceOutput, j.generateOutput, j.extractedAnswer ?? ""]
            rows.append(row.map(quote).joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    /// Per (model, item, repeat): the latest scored line, else the latest line; in model-then-item order.
    public static func effective(_ judgments: [Judgment]) -> [Judgment] {
        var chosen: [String: Judgment] = [:]
        var order: [String] = []
        for j in judgments {
            let k = "\(j.model)\u{0}\(j.item)\u{0}\(j.repeatIndex)"
            if chosen[k] == nil { order.append(k) }
            if let old = chosen[k], old.isScored, !j.isScored { continue }
            chosen[k] = j
        }
        var models: [String] = []
        for j in judgments where !models.contains(j.model) { models.append(j.model) }
        return order.compactMap { chosen[$0] }.sorted {
            ($0.model == $1.model) ? ($0.item, $0.repeatIndex) < ($1.item, $1.repeatIndex)
                : (models.firstIndex(of: $0.model) ?? 0) < (models.firstIndex(of: $1.model) ?? 0)
        }
    }

    static func quote(_ field: String) -> String {
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
