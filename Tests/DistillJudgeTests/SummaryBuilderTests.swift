import Foundation
import Testing
@testable import DistillJudge

/// Builds journal lines by hand so every number in the summary can be worked out on paper.
enum Journal {
    static let criteria = ["Correctness", "Completeness", "Relevance", "Fluency"]

    static func line(_ model: String, _ item: Int, _ scores: [Int]?, repeatIndex: Int = 0, reason: InvalidReason = .noJSON,
                     output: String? = nil, reference: String = "ref", step: ParseStep = .strict) -> Judgment {
        Judgment(key: "\(model)-\(item)-\(repeatIndex)", model: model, item: item, repeatIndex: repeatIndex,
                 status: scores == nil ? (reason == .transport ? .failed : .unscored) : .scored,
                 scores: scores.map { Dictionary(uniqueKeysWithValues: zip(criteria, $0)) }, partialScores: nil,
                 reason: nil, step: scores == nil ? nil : step, problems: scores == nil ? [VerdictProblem(reason, "x")] : [],
                 attempts: [], error: nil, instruction: "指令 \(item)", input: "", referenceOutput: reference,
                 generateOutput: output ?? "\(model) 输出 \(item)", judgeModel: "glm-4-flash", rubric: "seed-000",
                 rubricVersion: "v", time: "")
    }
}

struct SummaryBuilderTests {
    func builder(teacher: String? = nil, baseline: String? = nil) -> SummaryBuilder {
        var b = SummaryBuilder(criteria: Journal.criteria, scale: 0...5)
        b.teacherLabel = teacher
        b.baselineLabel = baseline
        b.bootstrap = Bootstrap(resamples: 2000)
        return b
    }

    @Test func validDataMeansAndHistogram() {
        let js = [
            Journal.line("A", 0, [5, 4, 5, 5]), Journal.line("A", 1, [3, 4, 5, 4]), Journal.line("A", 2, nil, reason: .outOfRange),
            Journal.line("A", 3, nil, reason: .transport), Journal.line("A", 3, [4, 4, 4, 4], step: .repairTurn),
        ]
        var b = builder()
        b.manifest = JudgeManifest(judgeModel: "j", endpoint: "e", keyEnv: nil, rubric: "r", rubricVersion: "v", criteria: Journal.criteria,
                                   scaleMin: 0, scaleMax: 5, replyFormat: "json_schema", temperature: 0, repeats: 1,
                                   inputs: [.init(label: "A", path: "a.jsonl", sha256: "", items: 5)], teacherLabel: nil,
                                   teacherModel: nil, baselineLabel: nil, referenceFromTeacher: false)
        let s = b.build(js)
        let a = s.models[0]
        #expect(a.nTotal == 5 && a.nValid == 3)
        #expect(a.invalidReasons == ["out-of-range": 1, "not-judged": 1])
        #expect(a.steps == ["strict": 2, "repair-turn": 1])
        #expect(a.criteria[0].mean.estimate == 4)  // (5 + 3 + 4) / 3
        #expect(a.criteria[0].histogram == [0, 0, 0, 1, 1, 1])
        #expect(abs(a.overall.estimate - (19.0 / 4 + 16.0 / 4 + 4) / 3) < 1e-12)
        #expect(a.criteria[0].mean.low <= 4 && a.criteria[0].mean.high >= 4)
    }

    @Test func pairedComparisonsUseOnlyItemsValidForEveryModel() throws {
        var js: [Judgment] = []
        for i in 0..<30 {
            js.append(Journal.line("teacher", i, [5, 5, 5, 5]))
            js.append(i == 7 ? Journal.line("student", i, nil) : Journal.line("student", i, [i % 3 == 0 ? 5 : 3, 4, 5, 5]))
        }
        let s = builder(teacher: "teacher").build(js)
        #expect(s.completeCaseItems == 29)
        let c = try #require(s.comparisons.first { $0.criterion == "Correctness" })
        #expect(c.a == "teacher" && c.b == "student" && c.n == 29)
        // Items 0..29 without 7: multiples of 3 score 5 (10 items), the other 19 score 3 → mean difference 2·19/29.
        #expect(abs(c.difference.estimate - 38.0 / 29) < 1e-12)
        let w = try #require(Wilcoxon.signedRank([Double](repeating: 5, count: 29), (0..<30).filter { $0 != 7 }.map { $0 % 3 == 0 ? 5.0 : 3.0 }))
        #expect(c.wilcoxonP == w.pValue)
        // Relevance is tied everywhere: no p-value rather than a made-up one.
        #expect(s.comparisons.first { $0.criterion == "Relevance" }?.wilcoxonP == nil)
        let r = try #require(s.retention.first { $0.criterion == "Correctness" })
        #expect(abs(r.retention - (5 - 38.0 / 29) / 5) < 1e-12)
    }

    @Test func gapClosedAgainstABaseline() throws {
        var js: [Judgment] = []
        for i in 0..<10 {
            js += [Journal.line("teacher", i, [5, 5, 5, 5]), Journal.line("base", i, [1, 1, 1, 1]), Journal.line("kd", i, [4, 2, 1, 5])]
        }
        let s = builder(teacher: "teacher", baseline: "base").build(js)
        let kd = s.retention.filter { $0.label == "kd" }
        #expect(kd.first { $0.criterion == "Correctness" }?.gapClosed == 0.75)
        #expect(kd.first { $0.criterion == "Relevance" }?.gapClosed == 0)
        #expect(kd.first { $0.criterion == "Fluency" }?.gapClosed == 1)
        #expect(kd.first { $0.criterion == "Correctness" }?.retention == 0.8)
    }

    @Test func warnsWhenFailureRatesDiffer() {
        var js: [Judgment] = []
        for i in 0..<100 {
            js.append(Journal.line("teacher", i, [4, 4, 4, 4]))
            js.append(i < 20 ? Journal.line("student", i, nil, reason: .missingKey) : Journal.line("student", i, [3, 3, 3, 3]))
            js.append(i < 1 ? Journal.line("other", i, nil) : Journal.line("other", i, [3, 3, 3, 3]))
        }
        let s = builder().build(js)
        #expect(s.warnings.contains { $0.contains("differs between teacher (0/100 invalid) and student (20/100)") })
        #expect(!s.warnings.contains { $0.contains("between teacher (0/100 invalid) and other") })
    }

    @Test func haloShowsAsInterCriterionCorrelation() {
        let js = (0..<20).map { i in Journal.line("halo", i, [Int](repeating: i % 6, count: 4)) }
            + (0..<20).map { i in Journal.line("mixed", i, [i % 6, (i * 7) % 6, 5 - i % 6, 3]) }
        let s = builder().build(js)
        #expect(abs(s.models[0].interCriterionCorrelation - 1) < 1e-12)
        #expect(s.models[1].interCriterionCorrelation < 0.5)
    }

    @Test func warnsWhenReferenceIsTheTeachersOutput() {
        let js = (0..<4).map { Journal.line("teacher", $0, [5, 5, 5, 5], output: "same", reference: "same") }
        #expect(builder(teacher: "teacher").build(js).warnings.contains { $0.contains("look like the teacher's own") })
    }

    @Test func judgeFamilyRelations() {
        #expect(ModelFamily.relation(judge: "Qwen/Qwen2.5-7B-Instruct", teacher: "qwen2.5-7b-instruct") == "same model")
        #expect(ModelFamily.relation(judge: "qwen-max", teacher: "Qwen2.5-7B-Instruct") == "same family (Qwen)")
        #expect(ModelFamily.relation(judge: "glm-4-flash", teacher: "Qwen2.5-7B-Instruct") == nil)
    }

    @Test func repeatsAreCombinedByMedianAndTheirSpreadReported() throws {
        var js: [Judgment] = []
        for i in 0..<4 {
            js.append(Journal.line("A", i, [4, 4, 4, 4], repeatIndex: 0))
            js.append(Journal.line("A", i, [i == 0 ? 2 : 4, 4, 4, 4], repeatIndex: 1))
            js.append(Journal.line("A", i, [i == 0 ? 3 : 4, 4, 4, 4], repeatIndex: 2))
        }
        let s = builder().build(js)
        #expect(s.models[0].nValid == 4)
        #expect(s.models[0].criteria[0].mean.estimate == 15.0 / 4)  // item 0: median of 4, 2, 3
        let sp = try #require(s.spread.first { $0.criterion == "Correctness" })
        #expect(sp.items == 4 && sp.agreement == 0.75 && sp.meanStandardDeviation == 0.25)
        #expect(s.spread.first { $0.criterion == "Fluency" }?.agreement == 1)
    }
}
