import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillJudge

/// Judge replies and journals built to hurt: deep nesting, huge replies, out-of-scale scores, and a fuzzed parser.
struct HostileReplyTests {
    static let deep50k = String(repeating: "[", count: 50_000)
    static let replies: [String] = [
        deep50k,
        String(repeating: "[", count: 100_000),
        String(repeating: "[", count: 200_000),
        #"{"reason": "ok", "Correctness": 4, "Completeness": 4, "Relevance": 5, "Fluency": 5, "x": "#
            + deep50k + String(repeating: "]", count: 50_000) + "}",
        String(repeating: #"{"a":"#, count: 5_000),
    ]

    @Test func deeplyNestedRepliesAreRecordedUnscoredAndARerunDoesNotAskAgain() async throws {
        let dir = try GenerationFiles.folder()
        let inputs = [JudgeInput(label: "m", path: try GenerationFiles.write(dir, label: "m", count: Self.replies.count))]
        var run = JudgeRun(inputs: inputs, rubric: try Rubric.load(RubricTests.promptsDir + "/judge.txt"),
                           settings: JudgeSettings(model: "judge-m"), endpoint: "http://127.0.0.1:1/v1", outDir: dir + "/judge")
        run.retryUnscored = false
        run.concurrency = 1
        let fake = FakeJudge { request, _ in
            // Each item always gets its own hostile reply (the item's number is in the prompt).
            let text = request.messages.map(\.content).joined()
            let i = (0..<Self.replies.count).first { text.contains("问题 \($0)：") } ?? 0
            return (Self.replies[i], "stop")
        }
        let s = try await run.run(client: fake)
        #expect(s.total == Self.replies.count && s.unscored == Self.replies.count && s.scored == 0)
        let js = try GenerationFiles.judgments(run.journalPath)
        #expect(js.count == Self.replies.count)
        for j in js {
            #expect(j.status == .unscored)
            #expect(!j.problems.isEmpty)
            for a in j.attempts {
                #expect(a.reply.utf8.count <= JudgeAttempt.maxStoredReplyBytes)
                let full = Self.replies[j.item].utf8.count
                if full > JudgeAttempt.maxStoredReplyBytes {
                    #expect(a.replyTruncated == true && a.replyBytes == full)
                } else {
                    #expect(a.replyTruncated == nil && a.reply == Self.replies[j.item])
                }
            }
        }
        // The journal line says so in its own words.
        let text = try String(contentsOfFile: run.journalPath, encoding: .utf8)
        #expect(text.contains(#""reply_truncated":true"#) && text.contains(#""reply_bytes":200000"#))
        // A re-run reads the journal back and asks nothing.
        let again = FakeJudge { _, _ in ("{}", "stop") }
        let s2 = try await run.run(client: again)
        #expect(s2.alreadyDone == Self.replies.count && again.requests.isEmpty)
    }

    @Test func theParserCapsDepthWithTheSharedLimit() throws {
        let ok = String(repeating: "[", count: JSONLimits.maxDepth) + String(repeating: "]", count: JSONLimits.maxDepth)
        _ = try LenientJSONParser.parseWhole(ok)
        let tooDeep = "[" + ok + "]"
        #expect(throws: LenientJSONParser.Failure.self) { try LenientJSONParser.parseWhole(tooDeep) }
    }

    @Test func cappedRepliesCutAtACharacterBoundary() {
        let text = String(repeating: "判", count: 30_000)  // 3 bytes each: 90,000 bytes
        let (cut, bytes) = JudgeAttempt.capped(text)
        #expect(bytes == 90_000)
        #expect(cut.utf8.count <= JudgeAttempt.maxStoredReplyBytes && cut.utf8.count % 3 == 0)
        #expect(cut.allSatisfy { $0 == "判" })
        #expect(JudgeAttempt.capped("short 🙂").originalBytes == nil)
    }

    @Test func aScoreOutsideTheRubricScaleIsALocatedError() throws {
        let dir = try GenerationFiles.folder()
        var m = SyntheticJournal.manifest()
        m.scaleMin = 0
        m.scaleMax = 1
        try m.write(to: dir)
        let appender = try JSONLinesAppender(path: dir + "/judgments.jsonl")
        try appender.append(json: Journal.line("Teacher(CE)", 0, [1, 0, 1, 1]))
        try appender.append(json: Journal.line("Teacher(CE)", 1, [1, 99, 1, 0]))
        let e = try #require(throws: DataError.self) { try ReportWriter(directory: dir).write(to: dir + "/report") }
        #expect(e.file == dir + "/judgments.jsonl" && e.line == 2 && e.field == "scores.Completeness", "\(e)")
        #expect(e.message.contains("99") && e.message.contains("0–1"), "\(e)")
    }

    /// Replies a judge might send, for the fuzzer to start from.
    static let seeds = [
        #"{"reason": "ok", "Correctness": 4, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#,
        "Here is my verdict:\n```json\n{\"Correctness\": 3, \"Completeness\": 2, \"Relevance\": 4, \"Fluency\": 5,}\n```\n理由：很好 🙂",
        #"{"Correctness": 4, "Completeness": 4, "Relevance": 5, "Fluency": 5, "reason": "cut off he"#,
        #"{"Correctness": 4} {"Correctness": 4, "Completeness": 1, "Relevance": 1, "Fluency": 1} [[{"a": [1, -2.5e3, "\u00e9\ud83d\ude00"]}]]"#,
    ]

    @Test func fuzzedRepliesNeverCrashTheVerdictParser() {
        let parser = VerdictParser(criteria: Journal.criteria, scale: 0...5)
        var mutator = FuzzMutator(seed: 0x1D6E)
        var run = FuzzRun("judge replies")
        let seeds = Self.seeds.map { Array($0.utf8) }
        while run.next() {
            let reply = String(decoding: mutator.mutate(seeds), as: UTF8.self)
            let parsed = parser.parse(reply, finishReason: "stop")
            if parsed.isValid {
                #expect(Set(parsed.scores.keys) == Set(Journal.criteria) && parsed.scores.values.allSatisfy { (0...5).contains($0) })
            } else {
                #expect(parsed.problems.allSatisfy { !$0.detail.isEmpty })
            }
            run.record(accepted: parsed.isValid)
        }
        print(run.summary)
        #expect(run.inputs > 0)
    }
}
