import DistillData
import DistillJudge
import DistillClient
import DistillHarvest
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// A judge answering from a closure, counting requests (the HTTP path is tested against the loopback stand-in).
final class ScriptedJudge: ChatCompleting, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    let reply: @Sendable (ChatRequest) -> String
    init(_ reply: @escaping @Sendable (ChatRequest) -> String) { self.reply = reply }
    var requests: Int { lock.withLock { count } }
    func complete(_ request: ChatRequest) async throws -> ChatResponse {
        lock.withLock { count += 1 }
        return ChatResponse(id: "x", model: request.model,
                            choices: [ChatChoice(index: 0, message: .assistant(reply(request)), finishReason: "stop")], usage: nil)
    }
}

enum CLIFiles {
    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-judge-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func generations(_ dir: String, _ name: String, outputs: [String], references: [String]) throws -> String {
        let path = dir + "/\(name).jsonl"
        let lines = try zip(outputs, references).enumerated().map { i, pair in
            String(decoding: try JSONLines.encoder.encode(GenerationRecord(instruction: "第 \(i) 题：选出正确答案", input: "A. 猫 B. 狗 C. 鱼",
                                                                         referenceOutput: pair.1, generateOutput: pair.0)), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

struct JudgeCommandTests {
    @Test(arguments: [
        (["judge", "--out", "x"], "missing required option '--inputs'"),
        (["judge", "--inputs", "a.jsonl", "--out", "x"], "missing required option '--judge'"),
        (["judge", "--inputs", "a.jsonl", "b.jsonl", "--labels", "A", "--out", "x", "--score", "exact"], "--labels gives 1 names for 2 inputs"),
        (["judge", "--inputs", "a.jsonl", "--out", "x", "--score", "fuzzy"], "--score must be judge, exact, numeric or choice"),
        (["judge", "--inputs", "a.jsonl", "--out", "x", "--judge", "http://127.0.0.1:1", "--model", "m", "--repeats", "0"], "--repeats must be at least 1"),
        (["judge", "--inputs", "a.jsonl", "--out", "x", "--score", "exact", "--teacher", "T"], "--teacher 'T' is not one of the labels"),
    ])
    func usageErrors(argv: [String], message: String) {
        #expect { try DistillCLI.resolve(argv) } throws: { ($0 as? UsageError)?.message.contains(message) == true }
    }

    @Test func ruleScoringWritesAReportWithoutAJudge() async throws {
        let dir = try CLIFiles.folder()
        let refs = ["A", "B", "C", "A"]
        let t = try CLIFiles.generations(dir, "teacher", outputs: ["A", "The answer is B", "C.", "A"], references: refs)
        let s = try CLIFiles.generations(dir, "student", outputs: ["A", "答案是 C", "I don't know", "(a)"], references: refs)
        let code = await DistillCLI.main(["judge", "--score", "choice", "--inputs", t, s, "--out", dir + "/out"])
        #expect(code == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/summary.json"))) as? [String: Any]
        let models = try #require(summary?["models"] as? [[String: Any]])
        let means = models.compactMap { (($0["criteria"] as? [[String: Any]])?.first?["mean"] as? [String: Any])?["estimate"] as? Double }
        #expect(means == [1.0, 0.5])
        #expect(FileManager.default.fileExists(atPath: dir + "/out/report.html"))
    }

    @Test func judgeWritesJournalManifestAndReportAndResumes() async throws {
        let dir = try CLIFiles.folder()
        let t = try CLIFiles.generations(dir, "t", outputs: ["猫 🐱", "狗"], references: ["猫", "狗"])
        let s = try CLIFiles.generations(dir, "s", outputs: ["鱼", "狗 🐶"], references: ["猫", "狗"])
        let argv = ["judge", "--judge", "http://127.0.0.1:9/v1", "--model", "glm-4-flash", "--inputs", t, s, "--labels", "Teacher", "Student",
                    "--out", dir + "/j", "--teacher-model", "glm-4-plus", "--concurrency", "2"]
        guard case .command(let command, _) = try DistillCLI.resolve(argv), let judge = command as? JudgeCommand else {
            Issue.record("not a judge command"); return
        }
        let good = #"{"reason": "好", "Correctness": 5, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#
        let fake = ScriptedJudge { req in req.messages[1].content.contains("### Generated Output:\n鱼") ? "```json\n{\"Correctness\": 1, \"Completeness\": 1, \"Relevance\": 2, \"Fluency\": 5}\n```" : good }
        try await judge.judge(client: fake)
        #expect(fake.requests == 4)
        let manifest = try #require(try JudgeManifest.read(from: dir + "/j"))
        #expect(manifest.inputs.map(\.items) == [2, 2] && manifest.teacherLabel == "Teacher" && manifest.keyEnv == nil)
        let md = try String(contentsOfFile: dir + "/j/report.md", encoding: .utf8)
        #expect(md.contains("| Student | 2 / 2 | 3.00 [1.00, 5.00] |"))
        #expect(md.contains("same family (GLM)"))
        // Same command again: nothing left to ask.
        let again = ScriptedJudge { _ in good }
        try await judge.judge(client: again)
        #expect(again.requests == 0)
    }

    @Test func reportCommandRebuildsFromAFolder() async throws {
        let dir = try CLIFiles.folder()
        let t = try CLIFiles.generations(dir, "t", outputs: ["A"], references: ["A"])
        #expect(await DistillCLI.main(["judge", "--score", "exact", "--inputs", t, "--out", dir + "/r"]) == 0)
        try FileManager.default.removeItem(atPath: dir + "/r/report.html")
        #expect(await DistillCLI.main(["report", dir + "/r", "--resamples", "200"]) == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/r/report.html"))
        #expect(await DistillCLI.main(["report", dir + "/missing"]) == 1)
        #expect(await DistillCLI.main(["report"]) == 64)
    }

    @Test func judgesOverHTTPAgainstTheStandIn() async throws {
        let good = #"{"reason": "不错 👍", "Correctness": 3, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#
        let standIn = try TeacherStandIn { _ in .chat(good) }
        defer { standIn.stop() }
        let dir = try CLIFiles.folder()
        let t = try CLIFiles.generations(dir, "t", outputs: ["猫", "狗"], references: ["猫", "狗"])
        let code = await DistillCLI.main(["judge", "--judge", standIn.baseURL, "--model", "stand-in", "--inputs", t,
                                          "--out", dir + "/j", "--rpm", "600"])
        #expect(code == 0)
        #expect(standIn.requestCount == 2)
        let md = try String(contentsOfFile: dir + "/j/report.md", encoding: .utf8)
        #expect(md.contains("| t | 2 / 2 | 3.00 [3.00, 3.00] | 4.00 [4.00, 4.00] |"))
    }

    @Test func refusedKeyStopsTheRunInsteadOfFailingEveryItem() async throws {
        let standIn = try TeacherStandIn { _ in .error(status: 401, type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key") }
        defer { standIn.stop() }
        let dir = try CLIFiles.folder()
        let t = try CLIFiles.generations(dir, "t", outputs: ["a", "b", "c"], references: ["a", "b", "c"])
        let code = await DistillCLI.main(["judge", "--judge", standIn.baseURL, "--model", "m", "--inputs", t, "--out", dir + "/j",
                                          "--concurrency", "1"])
        #expect(code == 1)
        #expect(standIn.requestCount == 1)
    }

    @Test func unsetKeyVariableIsAUsageError() async throws {
        let dir = try CLIFiles.folder()
        let t = try CLIFiles.generations(dir, "t", outputs: ["a"], references: ["a"])
        let code = await DistillCLI.main(["judge", "--judge", "http://127.0.0.1:9/v1", "--model", "m", "--inputs", t, "--out", dir + "/j",
                                          "--key-env", "DISTILL_TEST_SURELY_UNSET_KEY"])
        #expect(code == 64)
    }
}
