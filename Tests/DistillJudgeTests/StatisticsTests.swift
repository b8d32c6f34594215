import Foundation
import Testing
@testable import DistillJudge

/// Reference values from scipy/numpy (scripts/fixtures/make_judge_stats_fixture.py → Fixtures/judge_stats.json).
struct StatisticsFixture: Decodable {
    struct WilcoxonCase: Decodable { var name: String; var x: [Double]; var y: [Double]; var statistic: Double; var pvalue: Double }
    struct FisherCase: Decodable { var table: [[Int]]; var pvalue: Double }
    struct BootstrapCase: Decodable {
        var name: String; var data: [Double]; var mean: Double; var low: Double; var high: Double
        var standard_error: Double
    }
    struct Paired: Decodable { var a: [Double]; var b: [Double]; var mean_difference: Double; var low: Double; var high: Double }
    struct Percentiles: Decodable {
        struct Case: Decodable { var q: Double; var value: Double }
        var values: [Double]; var cases: [Case]
    }
    var wilcoxon: [WilcoxonCase]
    var fisher: [FisherCase]
    var bootstrap: [BootstrapCase]
    var paired_bootstrap: Paired
    struct Pearson: Decodable { var x: [Double]; var y: [Double]; var r: Double }
    var pearson: Pearson
    var percentile: Percentiles

    static func load() throws -> StatisticsFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/judge_stats.json")
        return try JSONDecoder().decode(StatisticsFixture.self, from: Data(contentsOf: url))
    }
}

struct StatisticsTests {
    let fixture: StatisticsFixture
    init() throws { fixture = try StatisticsFixture.load() }

    @Test func wilcoxonMatchesScipyInEveryRegime() throws {
        for c in fixture.wilcoxon {
            let r = try #require(Wilcoxon.signedRank(c.x, c.y), "\(c.name)")
            #expect(r.statistic == c.statistic, "\(c.name)")
            #expect(abs(r.pValue - c.pvalue) <= 1e-9 * max(1, c.pvalue) + 1e-12, "\(c.name): \(r.pValue) vs scipy \(c.pvalue)")
        }
        // The fixture really covers the three regimes.
        let methods = Set(fixture.wilcoxon.compactMap { Wilcoxon.signedRank($0.x, $0.y)?.method })
        #expect(methods == [.exact, .permutation, .normal])
    }

    @Test func fisherMatchesScipy() {
        for c in fixture.fisher {
            let p = FisherExact.twoSided(c.table[0][0], c.table[0][1], c.table[1][0], c.table[1][1])
            #expect(abs(p - c.pvalue) < 1e-9, "\(c.table): \(p) vs scipy \(c.pvalue)")
        }
    }

    @Test func percentileMatchesNumpyLinear() {
        for c in fixture.percentile.cases {
            #expect(abs(Descriptive.percentile(fixture.percentile.values, c.q) - c.value) < 1e-12, "q=\(c.q)")
        }
    }

    /// Different generators draw different resamples, so the CI can only agree within Monte Carlo error
    /// (≈ 0.005 here); 0.03 is several of those and far below the CI widths (≈ 0.25–0.5).
    @Test func bootstrapIntervalAgreesWithScipyWithinMonteCarloError() {
        let boot = Bootstrap(resamples: 20_000, seed: 7)
        for c in fixture.bootstrap {
            let ci = boot.meanInterval(c.data)
            #expect(ci.estimate == c.mean)
            #expect(abs(ci.low - c.low) < 0.03, "\(c.name) low \(ci.low) vs \(c.low)")
            #expect(abs(ci.high - c.high) < 0.03, "\(c.name) high \(ci.high) vs \(c.high)")
            // Deterministic check on the resampling itself: the spread of resampled means is the plug-in SE σ̂/√n.
            let means = boot.resampledMeans(c.data)
            let n = Double(c.data.count)
            let plugIn = Descriptive.standardDeviation(c.data) * ((n - 1) / n).squareRoot() / n.squareRoot()
            #expect(abs(Descriptive.standardDeviation(means) / plugIn - 1) < 0.03)
            #expect(abs(Descriptive.standardDeviation(means) - c.standard_error) < 0.03 * c.standard_error)
        }
        let p = fixture.paired_bootstrap
        let diff = boot.pairedDifferenceInterval(p.a, p.b)
        #expect(abs(diff.estimate - p.mean_difference) < 1e-12)
        #expect(abs(diff.low - p.low) < 0.03 && abs(diff.high - p.high) < 0.03, "\(diff) vs scipy [\(p.low), \(p.high)]")
    }

    @Test func pearsonMatchesScipy() {
        #expect(abs(Descriptive.pearson(fixture.pearson.x, fixture.pearson.y) - fixture.pearson.r) < 1e-12)
        #expect(Descriptive.pearson([1, 1, 1], [1, 2, 3]).isNaN)
    }

    @Test func bootstrapIsReproducibleForASeed() {
        let data = (0..<50).map { Double(($0 * 37) % 11) / 3 }
        #expect(Bootstrap(seed: 3).meanInterval(data) == Bootstrap(seed: 3).meanInterval(data))
        #expect(Bootstrap(seed: 3).meanInterval(data) != Bootstrap(seed: 4).meanInterval(data))
    }

    @Test func holmAdjustsStepDown() {
        // Holm (1979) by hand: sorted p 0.01, 0.02, 0.03, 0.04 with m = 4 → 0.04, 0.06, 0.06, 0.06 (monotone).
        #expect(Descriptive.holm([0.03, 0.01, 0.04, 0.02]).map { ($0 * 1e9).rounded() / 1e9 } == [0.06, 0.04, 0.06, 0.06])
    }

    @Test func allZeroDifferencesGiveNoPValue() throws {
        let r = try #require(Wilcoxon.signedRank([3, 3, 4], [3, 3, 4]))
        #expect(r.nonZero == 0)
    }
}
