import Foundation

/// Fisher's exact test on a 2×2 table, two-sided as in `scipy.stats.fisher_exact`: the p-value sums the
/// hypergeometric probabilities of every table with the same margins that is no more likely than the one observed.
/// Used to ask whether the judge fails more often on one model's outputs than on another's.
public enum FisherExact {
    /// Table `[[a, b], [c, d]]`, e.g. (invalid, valid) for model A in the first row and model B in the second.
    public static func twoSided(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Double {
        let row1 = a + b, row2 = c + d, col1 = a + c
        let total = row1 + row2
        // A zero margin leaves a single possible table.
        if row1 == 0 || row2 == 0 || col1 == 0 || col1 == total { return 1 }
        func logChoose(_ n: Int, _ k: Int) -> Double {
            lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        }
        func logPMF(_ x: Int) -> Double { logChoose(row1, x) + logChoose(row2, col1 - x) - logChoose(total, col1) }
        let observed = logPMF(a)
        let lo = max(0, col1 - row2), hi = min(row1, col1)
        var p = 0.0
        // Relative tolerance 1e-7 on "no more likely", as R's fisher.test uses, so tables tied in probability count.
        for x in lo...hi {
            let lp = logPMF(x)
            if lp <= observed + log1p(1e-7) { p += exp(lp) }
        }
        return min(1, p)
    }
}
