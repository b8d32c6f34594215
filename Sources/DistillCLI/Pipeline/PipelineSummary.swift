import DistillData
import Foundation

/// The summary `distill run` prints at the end: per stage, what happened and why, how long it took, and its output.
struct PipelineSummary {
    struct Row: Equatable {
        var name: String
        /// ran, skipped, would run, stopped, FAILED, not selected.
        var outcome: String
        /// Why: new, unchanged, resumed, "changed: --epochs", done earlier, …
        var reason: String
        var seconds: Double?
        /// The stage's key output (its folder or file).
        var output: String
    }

    var rows: [Row] = []

    mutating func add(_ name: String, _ outcome: String, _ reason: String, seconds: Double? = nil, output: String) {
        rows.append(Row(name: name, outcome: outcome, reason: reason, seconds: seconds, output: output))
    }

    /// The changed keys of a fingerprint, for the reason column: `changed: --epochs, file data.jsonl`.
    static func changedKeys(old: [String: String], new: [String: String]) -> String {
        let keys = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
        guard !keys.isEmpty else { return "changed" }
        let shown = keys.prefix(3).map { $0.hasPrefix("file ") ? "file " + ($0.dropFirst(5) as NSString).lastPathComponent : $0 }
        return "changed: " + shown.joined(separator: ", ") + (keys.count > 3 ? " (+\(keys.count - 3))" : "")
    }

    /// The table: a header line with the counts and the total time, then one aligned line per stage reached
    /// (`stages`: how many the pipeline has; those after a failed or stopped one are counted as not reached).
    func render(folder: String, stages: Int? = nil) -> [String] {
        let n = max(stages ?? rows.count, rows.count)
        let ran = rows.filter { $0.outcome == "ran" }.count
        let skipped = rows.filter { $0.outcome == "skipped" }.count
        let total = rows.compactMap(\.seconds).reduce(0, +)
        var head = "pipeline \(folder): \(n) stages, \(ran) ran, \(skipped) skipped"
        let other = rows.count - ran - skipped
        if other > 0 { head += ", \(other) other" }
        if n > rows.count { head += ", \(n - rows.count) not reached" }
        head += " · \(PipelineRunner.duration(total))"
        let nameWidth = rows.map { ProgressReporter.width($0.name) }.max() ?? 0
        let outcomeWidth = rows.map(\.outcome.count).max() ?? 0
        let reasonWidth = min(40, rows.map { ProgressReporter.width($0.reason) }.max() ?? 0)
        var lines = [head]
        for (i, r) in rows.enumerated() {
            let time = r.seconds.map(PipelineRunner.duration) ?? "-"
            let columns = [
                "[\(i + 1)/\(n)]", pad(r.name, nameWidth), pad(r.outcome, outcomeWidth),
                pad(r.reason.count > 40 ? String(r.reason.prefix(39)) + "…" : r.reason, reasonWidth),
                pad(time, 10), r.output,
            ]
            lines.append("  " + columns.joined(separator: "  "))
        }
        return lines
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(0, width - ProgressReporter.width(s)))
    }
}
