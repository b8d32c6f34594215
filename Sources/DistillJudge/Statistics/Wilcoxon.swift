import Foundation

/// The Wilcoxon signed-rank test for paired scores, computed the way `scipy.stats.wilcoxon(x, y)` does by default
/// (scipy 1.17: `zero_method="wilcox"`, `correction=False`, `method="auto"`, two-sided), so a report's p agrees with
/// what a reader gets from scipy:
/// - zero differences are dropped; |d| are ranked with average ranks for ties;
/// - n ≤ 50 with no ties and no zeros: the exact null distribution of R+;
/// - n ≤ 13 otherwise: the exact permutation distribution over all 2ⁿ sign flips (scipy's `PermutationMethod`);
/// - otherwise the normal approximation z = (R+ − n(n+1)/4) / σ with the tie correction σ² = (n(n+1)(2n+1) − Σ(t³−t)/2)/24.
/// Here n counts the pairs before zeros are dropped when choosing the method, as scipy does.
public enum Wilcoxon {
    public enum Method: String, Codable, Sendable { case exact, permutation, normal }

    public struct Result: Codable, Sendable, Equatable {
        /// min(R+, R−), scipy's two-sided statistic.
        public var statistic: Double
        public var pValue: Double
        public var method: Method
        /// Non-zero differences used.
        public var nonZero: Int
    }

    /// Two-sided test of `x − y`; nil when the samples are empty.
    public static func signedRank(_ x: [Double], _ y: [Double]) -> Result? {
        precondition(x.count == y.count, "paired samples must have equal length")
        let d = zip(x, y).map { $0 - $1 }
        guard !d.isEmpty else { return nil }
        let ranked = rankNonZero(d)
        let hasZeros = ranked.count < d.count
        let rPlus = ranked.filter { $0.sign > 0 }.reduce(0) { $0 + $1.rank }
        let rMinus = ranked.filter { $0.sign < 0 }.reduce(0) { $0 + $1.rank }
        let statistic = min(rPlus, rMinus)
        let n = ranked.count
        let hasTies = ranked.tieCorrection > 0

        let method: Method = d.count > 50 ? .normal : (!hasTies && !hasZeros ? .exact : (d.count <= 13 ? .permutation : .normal))
        let p: Double
        switch method {
        case .exact:
            p = exactPValue(rPlus: rPlus, n: n)
        case .permutation:
            p = permutationPValue(d)
        case .normal:
            let mean = Double(n * (n + 1)) / 4
            let variance = (Double(n * (n + 1) * (2 * n + 1)) - ranked.tieCorrection / 2) / 24
            if variance <= 0 {
                p = .nan
            } else {
                let z = (rPlus - mean) / variance.squareRoot()
                p = min(1, 2 * Descriptive.normalSurvival(abs(z)))
            }
        }
        return Result(statistic: statistic, pValue: p, method: method, nonZero: n)
    }

    struct RankedDifferences: Sequence {
        var items: [(rank: Double, sign: Int)]
        /// Σ (t³ − t) over groups of tied |d|.
        var tieCorrection: Double
        var count: Int { items.count }
        func makeIterator() -> IndexingIterator<[(rank: Double, sign: Int)]> { items.makeIterator() }
    }

    /// Average ranks of |d| over the non-zero differences, with each one's sign.
    static func rankNonZero(_ d: [Double]) -> RankedDifferences {
        let nz = d.filter { $0 != 0 }
        let order = nz.indices.sorted { abs(nz[$0]) < abs(nz[$1]) }
        var ranks = [Double](repeating: 0, count: nz.count)
        var ties = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, abs(nz[order[j + 1]]) == abs(nz[order[i]]) { j += 1 }
            let average = Double(i + j + 2) / 2  // ranks are 1-based
            for k in i...j { ranks[order[k]] = average }
            let t = Double(j - i + 1)
            ties += t * t * t - t
            i = j + 1
        }
        return RankedDifferences(items: nz.indices.map { (ranks[$0], nz[$0] > 0 ? 1 : -1) }, tieCorrection: ties)
    }

    /// Exact two-sided p from the null distribution of R+ over 2ⁿ equally likely sign patterns:
    /// 2·min(P(R+ ≥ ⌊r⌋), P(R+ ≤ ⌈r⌉)), capped at 1 (scipy's conservative rounding for non-integral r).
    static func exactPValue(rPlus: Double, n: Int) -> Double {
        let maxSum = n * (n + 1) / 2
        // counts[s] = number of subsets of {1…n} summing to s.
        var counts = [Double](repeating: 0, count: maxSum + 1)
        counts[0] = 1
        for k in 1...max(n, 1) where n > 0 {
            for s in stride(from: maxSum, through: k, by: -1) { counts[s] += counts[s - k] }
        }
        let total = pow(2.0, Double(n))
        let upper = Int(rPlus.rounded(.down))
        let lower = Int(rPlus.rounded(.up))
        let sf = counts[min(max(upper, 0), maxSum)...].reduce(0, +) / total
        let cdf = counts[...min(max(lower, 0), maxSum)].reduce(0, +) / total
        return min(1, 2 * min(sf, cdf))
    }

    /// Exact permutation p: R+ recomputed under every sign flip of d; two-sided = 2·min(P(T ≤ t), P(T ≥ t)), capped at 1,
    /// with scipy's relative tolerance for ties in T.
    static func permutationPValue(_ d: [Double]) -> Double {
        let ranked = rankNonZero(d).items
        let observed = ranked.filter { $0.sign > 0 }.reduce(0) { $0 + $1.rank }
        let n = d.count
        let zeros = n - ranked.count
        let gamma = abs(observed) * Double.ulpOfOne * 100
        var less = 0.0, greater = 0.0
        // Flipping a zero difference changes nothing, so each pattern of the non-zero ones counts 2^zeros times.
        let weight = pow(2.0, Double(zeros))
        for mask in 0..<(1 << ranked.count) {
            var t = 0.0
            for (k, item) in ranked.enumerated() {
                let flipped = (mask >> k) & 1 == 1
                if (item.sign > 0) != flipped { t += item.rank }
            }
            if t <= observed + gamma { less += weight }
            if t >= observed - gamma { greater += weight }
        }
        let total = pow(2.0, Double(n))
        return min(1, 2 * min(less / total, greater / total))
    }
}
