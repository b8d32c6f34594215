import DistillData
import DistillClient
import DistillTestSupport
import Foundation
import Testing
@testable import DistillJudge

/// Writes small generation files in seed 000's format into a fresh temporary folder.
enum GenerationFiles {
    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("judge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `count` items whose generate_output is "<label> answer i 🙂"; returns the path.
    static func write(_ dir: String, label: String, count: Int) throws -> String {
        let path = dir + "/\(label).jsonl"
        let lines = try (0..<count).map { i in
            let r = GenerationRecord(instruction: "问题 \(i)：解释一下", input: i % 2 == 0 ? "" : "上下文 \(i)",
                                     referenceOutput: "参考答案 \(i)", generateOutput: "\(label) answer \(i) 🙂")
            return String(decoding: try JSONLines.encoder.encode(r), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func judgments(_ path: String) throws -> [Judgment] {
        // Complete lines only: a torn last line is what a crash leaves, and the run drops it too.
        try JSONLinesReader(path: path).filter(\.complete).map { try JSONDecoder().decode(Judgment.self, from: $0.bytes) }
    }
}

struct JudgeRunTests {
    static let good = #"{"reason": "ok", "Correctness": 4, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#

    func makeRun(_ dir: String, models: [String], count: Int, repeats: Int = 1) throws -> JudgeRun {
        let inputs = try models.map { JudgeInput(label: $0, path: try GenerationFiles.write(dir, label: $0, count: count)) }
        var run = JudgeRun(inputs: inputs, rubric: try Rubric.load(RubricTests.promptsDir + "/judge.txt"),
                           settings: JudgeSettings(model: "judge-m"), endpoint: "http://127.0.0.1:1/v1", outDir: dir + "/judge")
        run.concurrency = 3
        run.repeats = repeats
        return run
    }

    @Test func judgesEveryItemOfEveryModelAndJournalsThem() async throws {
        let dir = try GenerationFiles.folder()
        let run = try makeRun(dir, models: ["teacher", "student-ce"], count: 5, repeats: 2)
        let fake = FakeJudge { _, _ in (Self.good, "stop") }
        let s = try await run.run(client: fake)
        #expect(s.total == 20 && s.scored == 20 && s.alreadyDone == 0)
        let js = try GenerationFiles.judgments(run.journalPath)
        #expect(js.count == 20)
        #expect(Set(js.map(\.key)).count == 20)
        #expect(Set(js.map { "\($0.model)/\($0.item)/\($0.repeatIndex)" }).count == 20)
        let one = try #require(js.first { $0.model == "student-ce" && $0.item == 3 })
        #expect(one.generateOutput == "student-ce answer 3 🙂" && one.input == "上下文 3")
        #expect(one.scores == ["Correctness": 4, "Completeness": 4, "Relevance": 5, "Fluency": 5])
    }

    @Test func cancelledMidRunResumesWithoutAskingFinishedItems() async throws {
        let dir = try GenerationFiles.folder()
        let run = try makeRun(dir, models: ["teacher", "student"], count: 10)
        // The first process answers 6 requests, then hangs until it is killed (cancelled).
        let first = FakeJudge { _, n in
            if n > 6 { try await Task.sleep(for: .seconds(60)) }
            return (Self.good, "stop")
        }
        let task = Task { try await run.run(client: first) }
        try await eventually("6 judgments in the journal", every: .milliseconds(5)) { ((try? GenerationFiles.judgments(run.journalPath).count) ?? 0) >= 6 }
        task.cancel()
        _ = await task.result
        // A kill mid-write leaves a torn last line; it must be dropped, not trusted.
        let handle = try #require(FileHandle(forWritingAtPath: run.journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"key":"torn","status":"scor"#.utf8))
        try handle.close()

        let done = Set(try GenerationFiles.judgments(run.journalPath).map(\.key))
        #expect(done.count == 6)
        let second = FakeJudge { _, _ in (Self.good, "stop") }
        let s = try await run.run(client: second)
        #expect(second.requests.count == 14)
        #expect(s.alreadyDone == 6 && s.scored == 14)
        let all = try GenerationFiles.judgments(run.journalPath)
        #expect(all.count == 20 && Set(all.map(\.key)).count == 20)
        // Nothing already judged was asked again.
        let asked = Set(second.requests.compactMap { $0.messages.last?.content })
        for j in all where done.contains(j.key) {
            #expect(!asked.contains { $0.contains(j.generateOutput) && $0.contains("### Instruction:\n\(j.instruction)\n") })
        }
    }

    @Test func failuresAreNeverCachedAsVerdicts() async throws {
        let dir = try GenerationFiles.folder()
        var run = try makeRun(dir, models: ["m"], count: 4)
        run.settings.maxResamples = 0
        run.secrets = ["sk-secret-123456"]
        // Item 0: transport failure; item 1: a reply that never validates; items 2, 3: fine.
        let flaky = FakeJudge { req, _ in
            let text = req.messages[1].content
            if text.contains("m answer 0 ") { throw FakeHTTPError(description: "HTTP 503 from server (key sk-secret-123456)") }
            if text.contains("m answer 1 ") { return ("no verdict here", "stop") }
            return (Self.good, "stop")
        }
        let s1 = try await run.run(client: flaky)
        #expect(s1.scored == 2 && s1.unscored == 1 && s1.failed == 1)
        let j1 = try GenerationFiles.judgments(run.journalPath)
        let failed = try #require(j1.first { $0.status == .failed })
        #expect(failed.scores == nil && failed.error?.contains("sk-secret") == false && failed.error?.contains("[redacted]") == true)
        let unscored = try #require(j1.first { $0.status == .unscored })
        #expect(unscored.scores == nil && unscored.attempts.map(\.reply) == ["no verdict here", "no verdict here"])

        // Re-running asks the failed and the unscored item again, and only those.
        let fixed = FakeJudge { _, _ in (Self.good, "stop") }
        let s2 = try await run.run(client: fixed)
        #expect(fixed.requests.count == 2 && s2.scored == 2 && s2.alreadyDone == 2)

        // With retryUnscored off, an unscored item is settled.
        run.retryUnscored = false
        let third = FakeJudge { _, _ in (Self.good, "stop") }
        _ = try await run.run(client: third)
        #expect(third.requests.isEmpty)
    }

    @Test func changedOutputIsJudgedAfresh() async throws {
        let dir = try GenerationFiles.folder()
        let run = try makeRun(dir, models: ["m"], count: 3)
        _ = try await run.run(client: FakeJudge { _, _ in (Self.good, "stop") })
        _ = try GenerationFiles.write(dir, label: "m", count: 4)  // item 3 is new; items 0-2 unchanged
        let again = FakeJudge { _, _ in (Self.good, "stop") }
        _ = try await run.run(client: again)
        #expect(again.requests.count == 1)
    }

    @Test func badInputFailsBeforeAnyRequest() async throws {
        let dir = try GenerationFiles.folder()
        var run = try makeRun(dir, models: ["m"], count: 2)
        try "{\"instruction\": \"x\", \"input\": \"\", \"reference_output\": \"y\"}\n".write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        run.inputs.append(JudgeInput(label: "bad", path: dir + "/bad.jsonl"))
        let fake = FakeJudge { _, _ in (Self.good, "stop") }
        await #expect { try await run.run(client: fake) } throws: { error in
            String(describing: error).contains("bad.jsonl:1") && String(describing: error).contains("generate_output")
        }
        #expect(fake.requests.isEmpty)
    }
}
