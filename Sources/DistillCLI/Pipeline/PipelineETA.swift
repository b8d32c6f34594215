import Foundation

/// The pipeline's overall ETA: the running stage's own remaining time plus an estimate for each stage still to run,
/// said as unknown when a stage has never been measured (rather than guessed).
///
/// A later stage is estimated from, in order: it will be skipped (unchanged) → 0; its own last run's duration
/// (`pipeline-state.json`, e.g. before a parameter changed); the rate of a measured stage of the same kind (same
/// command, same harvest recipe) × this stage's work (items of its data file × epochs for train); else unknown.
enum PipelineETA {
    enum Estimate: Equatable {
        case seconds(Double)
        case unknown
    }

    /// A finished stage's measure: its kind, its work units and how long it took.
    struct Measure: Equatable {
        var kind: String
        var units: Double
        var seconds: Double
    }

    /// The remaining time the stage's own progress line states (`ETA 5m12s`, `ETA 1h02m`, `ETA 12s`).
    static func stated(in line: String) -> Double? {
        guard let r = line.range(of: "ETA ", options: .backwards) else { return nil }
        var total = 0.0, number = "", any = false
        for ch in line[r.upperBound...] {
            if ch.isASCII, ch.isNumber {
                number.append(ch)
                continue
            }
            guard let n = Double(number) else { break }
            switch ch {
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: return any ? total : nil
            }
            any = true
            number = ""
        }
        return any ? total : nil
    }

    /// The estimate for a stage of `kind` with `units` of work, from the measures at hand.
    static func estimate(kind: String, units: Double?, skipped: Bool, lastRun: Double?, measures: [Measure]) -> Estimate {
        if skipped { return .seconds(0) }
        if let lastRun { return .seconds(lastRun) }
        guard let units else { return .unknown }
        let same = measures.filter { $0.kind == kind && $0.units > 0 }
        guard !same.isEmpty else { return .unknown }
        let rate = same.reduce(0) { $0 + $1.seconds } / same.reduce(0) { $0 + $1.units }
        return .seconds(rate * units)
    }

    /// The running stage's remaining time: what its line states, else its estimate less the time it has run.
    static func current(stated: Double?, estimate: Estimate, elapsed: Double) -> Estimate {
        if let stated { return .seconds(stated) }
        if case .seconds(let s) = estimate { return .seconds(max(0, s - elapsed)) }
        return .unknown
    }

    /// `overall ETA 4m10s`, `overall ETA ≥ 4m10s (2 stages not measured yet)`, or `overall ETA unknown`.
    static func describe(current: Estimate, later: [Estimate]) -> String {
        let all = [current] + later
        let known = all.reduce(0.0) { if case .seconds(let s) = $1 { return $0 + s } else { return $0 } }
        let missing = all.filter { $0 == .unknown }.count
        if missing == 0 { return "overall ETA " + GenerateCommand.duration(known) }
        if missing == all.count { return "overall ETA unknown" }
        return "overall ETA ≥ " + GenerateCommand.duration(known)
            + " (\(missing) stage\(missing == 1 ? "" : "s") not measured yet)"
    }
}
