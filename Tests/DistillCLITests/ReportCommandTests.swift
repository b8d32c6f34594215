import DistillData
import Foundation
import Testing
@testable import DistillJudge

/// `distill report` as a user runs it: the built binary, one process per run.
@Suite(.serialized) struct ReportCommandTests {
    /// Runs the binary; returns its exit status and standard error.
    static func run(_ args: [String]) throws -> (status: Int32, stderr: String) {
        guard let binary = HarvestCrashTests.binary else { throw DataError(file: ".build/debug/distill", "the distill binary was not found (swift build --build-tests)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        // Per-process hash seeds are what made dictionary order (and the bootstrap) differ between runs.
        p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "SWIFT_DETERMINISTIC_HASHING" }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A judge journal: two models × 80 items with seeded 0–5 scores on four criteria, a few unscored, outputs of
    /// different lengths, two tasks.
    static func journal(_ dir: String) throws -> String {
        var rng = SplitMix64(seed: 7)
        let criteria = ["Correctness", "Completeness", "Relevance", "Fluency"]
        let appender = try JSONLinesAppender(path: dir + "/judgments.jsonl")
        for model in ["teacher", "student"] {
            for i in 0..<80 {
                let scored = (i * 11 + model.count) % 13 != 0
                let scores = scored ? Dictionary(uniqueKeysWithValues: criteria.map { ($0, Int(rng.next() % 6)) }) : nil
                try appender.append(json: Judgment(
                    key: "\(model)-\(i)", model: model, item: i, repeatIndex: 0, status: scored ? .scored : .unscored, scores: scores,
                    partialScores: nil, reason: scored ? "理由 \(i)" : nil, step: scored ? .strict : nil,
                    problems: scored ? [] : [VerdictProblem(.noJSON, "no JSON")], attempts: [], error: nil,
                    instruction: "问题 \(i)", input: "", referenceOutput: "参考 \(i)",
                    generateOutput: String(repeating: "答 🙂", count: 1 + Int(rng.next() % 40)), judgeModel: "glm-4-flash",
                    rubric: "judge", rubricVersion: "v1", time: "2025-01-01T00:00:00Z", category: i % 3 == 0 ? "math" : "writing"))
            }
        }
        return dir + "/judgments.jsonl"
    }

    @Test(.timeLimit(.minutes(2))) func twoProcessesWriteTheSameBytes() throws {
        let dir = try CLIFiles.folder()
        let journal = try Self.journal(dir)
        for out in ["a", "b"] {
            let r = try Self.run(["report", "--inputs", journal, "--out", dir + "/" + out, "--resamples", "2000", "--seed", "3"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        for file in ["report.md", "report.html", "report.csv", "leaderboard.csv", "summary.json"] {
            let a = FileManager.default.contents(atPath: dir + "/a/" + file), b = FileManager.default.contents(atPath: dir + "/b/" + file)
            #expect(a != nil && a == b, "\(file) differs between two runs on the same judgments and seed")
        }
    }

    @Test(.timeLimit(.minutes(2))) func twoRubricsAreAClearErrorNotATrap() throws {
        let dir = try CLIFiles.folder()
        let judged = try Self.journal(try CLIFiles.folder())
        let refs = ["2022-05-20", "42", "北京"]
        let gen = try CLIFiles.generations(dir, "student", outputs: ["答案：2022-05-20", "42", "上海"], references: refs)
        let ruled = dir + "/rule.jsonl"
        let appender = try JSONLinesAppender(path: ruled)
        for j in try AnswerScorer.judgments(inputs: [JudgeInput(label: "rule-student", path: gen)], mode: .exact) { try appender.append(json: j) }
        let r = try Self.run(["report", "--inputs", judged, ruled, "--out", dir + "/report"])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("2 rubrics") && r.stderr.contains("'judge'") && r.stderr.contains("'accuracy-exact'"))
        #expect(r.stderr.contains(ruled))
        // Each rubric on its own reports fine.
        #expect(try Self.run(["report", "--inputs", ruled, "--out", dir + "/r1"]).status == 0)
    }
}
