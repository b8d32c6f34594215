import Foundation

/// Plain descriptive statistics over `Double`s; the shapes every report number is built from.
public enum Descriptive {
    public static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
    }

    /// Sample standard deviation (n − 1 in the denominator); NaN below two values.
    public static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return .nan }
        let m = mean(xs)
        return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
    }

    /// Pearson's r; NaN when either side has no variance or fewer than two pairs.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        guard x.count == y.count, x.count > 1 else { return .nan }
        let mx = mean(x), my = mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return sxx == 0 || syy == 0 ? .nan : sxy / (sxx * syy).squareRoot()
    }

    public static func median(_ xs: [Double]) -> Double { percentile(xs.sorted(), 50) }

    /// The q-th percentile (0–100) of already sorted values, interpolating linearly between order statistics —
    /// numpy's default (`method="linear"`), which scipy's percentile bootstrap uses.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = Double(sorted.count - 1) * q / 100
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// The standard normal upper tail P(Z > z).
    public static func normalSurvival(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

    /// Holm's step-down adjustment of p-values (same order as given): controls the family-wise error rate across
    /// the many model × criterion comparisons a report makes.
    public static func holm(_ ps: [Double]) -> [Double] {
        let order = ps.indices.sorted { ps[$0] < ps[$1] }
        var adjusted = [Double](repeating: .nan, count: ps.count)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(ps.count - rank) * ps[i]))
            adjusted[i] = running
        }
        return adjusted
    }
}
