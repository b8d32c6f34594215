import DistillTestSupport
import Foundation
import Testing

/// `distill judge` stops on SIGTERM like harvest does: the requests in flight are abandoned, every verdict received
/// is a whole line of the journal, the exit status is 128 + 15, and the same command asks only what is missing.
/// The real binary against the loopback stand-in.
@Suite(.serialized) struct JudgeStopTests {
    @Test(.timeLimit(.minutes(1))) func sigtermKeepsTheVerdictsSoFarAndTheSameCommandFinishes() async throws {
        let binary = try #require(HarvestCrashTests.binary, "build the distill binary first")
        let dir = try HarvestCommandTests.temporaryDirectory()
        let items = 240
        let gen = try CLIFiles.generations(dir, "student", outputs: (0..<items).map { "答案 \($0) 🐱" },
                                           references: (0..<items).map { "参考 \($0)" })
        let verdict = #"{"reason": "不错", "Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#
        let standIn = try TeacherStandIn { _ in .delayed(.milliseconds(15), .chat(verdict)) }
        defer { standIn.stop() }
        let out = dir + "/judge"
        let args = ["judge", "--judge", standIn.baseURL, "--model", "stand-in", "--inputs", gen, "--out", out,
                    "--concurrency", "4"]
        let journal = out + "/judgments.jsonl"
        @Sendable func lines() -> [String] {
            ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                .map(String.init)
        }
        let process = try HarvestCrashTests.launch(binary, args, log: dir + "/stderr.log")
        let signalled = await GenerateStopTests.signal(process, SIGTERM) { lines().count > 20 }
        await HarvestCrashTests.waitForExit(process)
        try #require(signalled, "judging finished before the signal; give it more work")
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGTERM)
        let stderr = try String(contentsOfFile: dir + "/stderr.log", encoding: .utf8)
        #expect(stderr.contains("SIGTERM") && stderr.contains("run the same command again"), "\(stderr)")

        // Whole lines only, each a scored verdict; fewer than all; no report for a half-judged run.
        let partial = lines()
        #expect(partial.last == "")
        let kept = partial.dropLast()
        #expect(kept.count >= 20 && kept.count < items)
        for line in kept {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(row?["status"] as? String == "scored")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/report.md"))

        let resume = try HarvestCrashTests.launch(binary, args, log: dir + "/stderr-2.log")
        await HarvestCrashTests.waitForExit(resume)
        #expect(resume.terminationStatus == 0)
        let all = lines().dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(all.count == items && Set(all.compactMap { $0["key"] as? String }).count == items)
        #expect(FileManager.default.fileExists(atPath: out + "/report.md"))
        // Nothing journaled was asked again: at most the 4 abandoned in flight were sent twice.
        #expect(standIn.requestCount >= items && standIn.requestCount <= items + 4, "\(standIn.requestCount) requests")
    }
}
