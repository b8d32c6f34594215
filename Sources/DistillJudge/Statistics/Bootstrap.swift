import DistillData
import Foundation

/// A confidence interval with the point estimate it belongs to.
public struct Interval: Codable, Sendable, Equatable {
    public var estimate: Double
    public var low: Double
    public var high: Double
    public init(estimate: Double, low: Double, high: Double) {
        self.estimate = estimate
        self.low = low
        self.high = high
    }
}

/// Percentile bootstrap confidence intervals (Efron), seeded so a report is reproducible.
/// Items are resampled with replacement; the interval is the (α/2, 1 − α/2) percentiles of the resampled means,
/// as `scipy.stats.bootstrap(method="percentile")` computes it.
public struct Bootstrap: Sendable {
    public var resamples: Int
    public var confidence: Double
    public var seed: UInt64

    public init(resamples: Int = 10_000, confidence: Double = 0.95, seed: UInt64 = 20_240_601) {
        self.resamples = resamples
        self.confidence = confidence
        self.seed = seed
    }

    /// CI of the mean of `values`. One value or none gives a degenerate interval (or NaN).
    public func meanInterval(_ values: [Double]) -> Interval {
        let m = Descriptive.mean(values)
        guard values.count > 1 else { return Interval(estimate: m, low: m, high: m) }
        let sorted = resampledMeans(values)
        let alpha = (1 - confidence) / 2
        return Interval(estimate: m, low: Descriptive.percentile(sorted, alpha * 100),
                        high: Descriptive.percentile(sorted, (1 - alpha) * 100))
    }

    /// CI of the mean paired difference `a[i] − b[i]` (both scored on the same items): resampling items keeps pairs
    /// together, which is what makes a small difference between two students detectable. Samples of unequal length
    /// are not paired: the interval is NaN (shown as "–"), never a trap.
    public func pairedDifferenceInterval(_ a: [Double], _ b: [Double]) -> Interval {
        guard a.count == b.count else { return Interval(estimate: .nan, low: .nan, high: .nan) }
        return meanInterval(zip(a, b).map { $0 - $1 })
    }

    /// The bootstrap distribution of the mean, sorted.
    func resampledMeans(_ values: [Double]) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let n = values.count
        var means = [Double](repeating: 0, count: resamples)
        values.withUnsafeBufferPointer { v in
            for b in 0..<resamples {
                var sum = 0.0
                for _ in 0..<n { sum += v[rng.index(below: n)] }
                means[b] = sum / Double(n)
            }
        }
        means.sort()
        return means
    }
}
