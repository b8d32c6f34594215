import DistillData
import Foundation

/// A length-controlled paired difference: judges favour longer answers (AlpacaEval 2's finding), so a model that
/// writes more can win on length alone.
///
/// Method (a simple regression adjustment, not AlpacaEval's GLM): per item, the score difference `dᵢ = aᵢ − bᵢ` is
/// regressed by least squares on the log length ratio `xᵢ = ln((1 + lenₐ) / (1 + len_b))`:
/// `dᵢ = α + β·xᵢ`. The intercept α is the difference predicted when both outputs have the same length; β·ln 2 is
/// what doubling the relative length adds. With no spread in length (all `xᵢ` equal) α is the plain mean difference.
/// The CI resamples items with replacement (pairs kept together), seeded like the other bootstrap intervals.
public enum LengthControl {
    public struct Fit: Sendable, Equatable {
        public var intercept: Double
        public var slope: Double
    }

    /// Least squares fit of `d` on `x`; NaN for no data.
    public static func fit(_ d: [Double], _ x: [Double]) -> Fit {
        guard d.count == x.count, !d.isEmpty else { return Fit(intercept: .nan, slope: .nan) }
        let md = Descriptive.mean(d), mx = Descriptive.mean(x)
        var sxx = 0.0, sxd = 0.0
        for (xi, di) in zip(x, d) {
            sxx += (xi - mx) * (xi - mx)
            sxd += (xi - mx) * (di - md)
        }
        // A (numerically) constant x carries no length information: fall back to the mean difference.
        guard sxx > 1e-12 * Double(d.count) else { return Fit(intercept: md, slope: 0) }
        let slope = sxd / sxx
        return Fit(intercept: md - slope * mx, slope: slope)
    }

    /// The log length ratio of two outputs' lengths.
    public static func logRatio(_ a: Int, _ b: Int) -> Double { log(Double(1 + a) / Double(1 + b)) }

    /// The intercept with a percentile-bootstrap CI over items.
    public static func interval(_ d: [Double], _ x: [Double], bootstrap: Bootstrap) -> (Interval, Fit) {
        let f = fit(d, x)
        guard d.count > 1, d.count == x.count else { return (Interval(estimate: f.intercept, low: f.intercept, high: f.intercept), f) }
        var rng = SplitMix64(seed: bootstrap.seed)
        var estimates: [Double] = []
        estimates.reserveCapacity(bootstrap.resamples)
        var bd = [Double](repeating: 0, count: d.count), bx = bd
        for _ in 0..<bootstrap.resamples {
            for k in 0..<d.count {
                let i = rng.index(below: d.count)
                bd[k] = d[i]
                bx[k] = x[i]
            }
            estimates.append(fit(bd, bx).intercept)
        }
        estimates.sort()
        let alpha = (1 - bootstrap.confidence) / 2
        return (Interval(estimate: f.intercept, low: Descriptive.percentile(estimates, alpha * 100),
                         high: Descriptive.percentile(estimates, (1 - alpha) * 100)), f)
    }
}
