import DistillData
import Foundation
import Testing
@testable import DistillJudge

/// What AlpacaEval / MT-bench users expect in a report: lengths, win/tie/loss, a length-controlled difference,
/// per-task means, a leaderboard CSV; and no "Overall" that repeats a single criterion.
struct ReportContentTests {
    /// One criterion (`Accuracy`-like, 0–5); scores and outputs per model given item by item.
    static func line(_ model: String, _ item: Int, _ score: Int?, output: String, category: String? = nil) -> Judgment {
        Judgment(key: "\(model)-\(item)", model: model, item: item, repeatIndex: 0, status: score == nil ? .unscored : .scored,
                 scores: score.map { ["Helpfulness": $0] }, partialScores: nil, reason: nil, step: score == nil ? nil : .strict,
                 problems: score == nil ? [VerdictProblem(.noJSON, "x")] : [], attempts: [], error: nil, instruction: "题 \(item)",
                 input: "", referenceOutput: "ref", generateOutput: output, judgeModel: "j", rubric: "r", rubricVersion: "v",
                 time: "", category: category)
    }

    func builder(baseline: String? = nil) -> SummaryBuilder {
        var b = SummaryBuilder(criteria: ["Helpfulness"], scale: 0...5)
        b.bootstrap = Bootstrap(resamples: 500)
        b.baselineLabel = baseline
        return b
    }

    @Test func oneCriterionHasNoOverallRowOrColumn() {
        var js: [Judgment] = []
        for i in 0..<12 {
            js.append(Self.line("A", i, i % 6, output: "a"))
            js.append(Self.line("B", i, (i + 2) % 6, output: "b"))
        }
        let s = builder().build(js)
        #expect(s.comparisons.map(\.criterion) == ["Helpfulness"])
        // Holm over one comparison is the raw p: nothing doubled.
        #expect(s.comparisons[0].adjustedP == s.comparisons[0].wilcoxonP)
        let md = MarkdownReport.render(s)
        #expect(!md.contains("Overall") && md.contains("| Method (Loss_fn) | Valid Data | Helpfulness |\n"))
        #expect(!HTMLReport.render(s, judgments: js).contains(">Overall<"))
    }

    @Test func winTieLossAndLengthAgainstTheBaseline() throws {
        // B beats A on items 0–5, ties on 6–8, loses on 9; A's outputs are 10 scalars, B's 20 (中文 counts one each).
        var js: [Judgment] = []
        for i in 0..<10 {
            js.append(Self.line("A", i, 3, output: String(repeating: "中", count: 10)))
            js.append(Self.line("B", i, i < 6 ? 4 : i < 9 ? 3 : 1, output: String(repeating: "文", count: 20)))
        }
        let s = builder(baseline: "A").build(js)
        #expect(s.pairwiseBaseline == "A")
        let p = try #require(s.pairwise.first)
        #expect(p.label == "B" && p.wins == 6 && p.ties == 3 && p.losses == 1 && p.n == 10)
        #expect(abs(p.winRate - 0.75) < 1e-12)
        #expect(s.models.map(\.meanOutputLength) == [10, 20])
        let md = MarkdownReport.render(s)
        #expect(md.contains("## Against A") && md.contains("| B | 20 | 6 / 3 / 1 | 75.0% | +0.40 ["))
    }

    @Test func lengthControlRemovesADifferenceThatIsAllLength() throws {
        // The score difference is exactly 1 × log length ratio: at equal length there is no difference.
        var js: [Judgment] = []
        let lengths = [10, 20, 40, 80, 10, 20, 40, 80, 160, 160]
        for (i, n) in lengths.enumerated() {
            let x = LengthControl.logRatio(n, 10) / log(2)  // doublings over A's 10
            js.append(Self.line("A", i, 1, output: String(repeating: "a", count: 10)))
            js.append(Self.line("B", i, 1 + Int(x.rounded()), output: String(repeating: "b", count: n)))
        }
        let s = builder(baseline: "A").build(js)
        let p = try #require(s.pairwise.first)
        #expect(p.difference.estimate > 1.5)
        #expect(abs(p.lengthControlled.estimate) < 0.1, "LC Δ \(p.lengthControlled.estimate)")
        #expect(abs(p.perDoubling - 1) < 0.1)
        // The fit is ordinary least squares: check it against a closed form on a small case.
        let f = LengthControl.fit([1, 2, 4], [0, 1, 2])
        #expect(abs(f.slope - 1.5) < 1e-12 && abs(f.intercept - (7.0 / 3 - 1.5)) < 1e-12)
    }

    @Test func perTaskBreakdownAndLeaderboard() throws {
        var js: [Judgment] = []
        for i in 0..<6 {
            let task = i < 4 ? "写作" : "math"
            js.append(Self.line("teacher", i, 5, output: "t", category: task))
            js.append(Self.line("student", i, i == 5 ? nil : i < 4 ? 2 : 4, output: "s", category: task))
        }
        let s = builder().build(js)
        #expect(s.tasks.map(\.task) == ["写作", "写作", "math", "math"])
        let student = try #require(s.tasks.first { $0.task == "math" && $0.label == "student" })
        #expect(student.nValid == 1 && student.nTotal == 2 && student.mean == 4)
        #expect(MarkdownReport.render(s).contains("| 写作 | 5.00 (4/4) | 2.00 (4/4) |"))
        let rows = LeaderboardCSV.render(s).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 3)
        #expect(rows[0] == "rank,model,items,valid,overall,overall_low,overall_high,avg_length,baseline,wins,ties,losses,win_rate,difference,length_controlled_difference")
        #expect(rows[1].hasPrefix("1,teacher,6,6,5.0000,5.0000,5.0000,1.0,teacher,,,,,,"))
        #expect(rows[2].hasPrefix("2,student,6,5,2.4000,"))
    }
}

/// Mixing judges: a judge folder's fingerprint names what changed; a report over two judges' files warns.
struct JudgeIdentityTests {
    @Test func judgeFingerprintNamesEachChange() {
        let a = JudgeRunManifest(mode: "judge", endpoint: "https://u:pw-123@api.example/v1", judgeModel: "glm-4-flash", rubric: "judge",
                                 rubricVersion: "r1", promptSHA256: "p1", parameters: ["temperature": "0.0", "max_tokens": "512"])
        #expect(a.endpoint == "https://u:***@api.example/v1")
        var b = a
        #expect(a.differences(from: b).isEmpty && a.computeFingerprint() == b.computeFingerprint())
        b.rubricVersion = "r2"
        b.parameters["max_tokens"] = "256"
        #expect(a.differences(from: b) == ["rubric 'judge' text changed (version r1 → r2)", "judge parameter max_tokens: 512 → 256"])
        var c = a
        c.promptSHA256 = "p2"
        c.endpoint = Redaction.maskingURLPasswords("https://u:other-pw@api.example/v1")
        // Another password is the same judge; another prompt is not.
        #expect(a.differences(from: c) == ["judge prompt text changed"])
    }

    @Test func aReportOverTwoJudgesWarns() {
        var js = (0..<4).map { ReportContentTests.line("A", $0, 3, output: "a") }
        js += (0..<4).map { i -> Judgment in
            var j = ReportContentTests.line("B", i, 4, output: "b")
            j.judgeModel = "qwen-max"
            return j
        }
        let s = ReportWriter(judgmentFiles: [], manifest: nil).summary(of: js)
        #expect(s.warnings.contains("These judgments come from 2 judges: j (A); qwen-max (B). Different judges score differently; "
            + "compare models judged by the same judge."))
    }
}
