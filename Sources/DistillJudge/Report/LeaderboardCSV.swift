import Foundation

/// One row per model, best first: the leaderboard a spreadsheet or a results page reads (`leaderboard.csv`).
public enum LeaderboardCSV {
    public static func render(_ s: EvaluationSummary) -> String {
        var header = ["rank", "model", "items", "valid", "overall", "overall_low", "overall_high"]
        header += s.criteria.count > 1 ? s.criteria : []
        header += ["avg_length", "baseline", "wins", "ties", "losses", "win_rate", "difference", "length_controlled_difference"]
        // Best overall first; NaN (nothing valid) last; ties by label, so the order never depends on anything else.
        let ranked = s.models.sorted {
            let a = $0.overall.estimate.isNaN ? -Double.infinity : $0.overall.estimate
            let b = $1.overall.estimate.isNaN ? -Double.infinity : $1.overall.estimate
            return a != b ? a > b : $0.label < $1.label
        }
        var rows = [header.map(CSVReport.quote).joined(separator: ",")]
        for (k, m) in ranked.enumerated() {
            let p = s.pairwise.first { $0.label == m.label }
            var row = [String(k + 1), m.label, String(m.nTotal), String(m.nValid), num(m.overall.estimate), num(m.overall.low), num(m.overall.high)]
            row += s.criteria.count > 1 ? m.criteria.map { num($0.mean.estimate) } : []
            row += [num(m.meanOutputLength, digits: 1), s.pairwiseBaseline ?? "", p.map { String($0.wins) } ?? "", p.map { String($0.ties) } ?? "",
                    p.map { String($0.losses) } ?? "", p.map { num($0.winRate) } ?? "", p.map { num($0.difference.estimate) } ?? "",
                    p.map { num($0.lengthControlled.estimate) } ?? ""]
            rows.append(row.map(CSVReport.quote).joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    static func num(_ x: Double, digits: Int = 4) -> String { x.isNaN || !x.isFinite ? "" : String(format: "%.\(digits)f", x) }
}
