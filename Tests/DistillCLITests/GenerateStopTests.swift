import DistillTestSupport
import Foundation
import Testing

/// `distill generate` stops on SIGTERM like harvest does: the answers written so far stay whole, in input order, the
/// exit status is 128 + 15, and the same command resumes and finishes with exactly the file an uninterrupted run
/// writes. The real binary on the tiny model.
@Suite(.serialized) struct GenerateStopTests {
    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
    }

    /// Sends `signal` to `process` as soon as `condition` holds, from a thread of its own: the test's task may wait
    /// seconds for a turn of the busy concurrency pool (the suite runs in parallel on 2 cores), long enough for a
    /// short run to end unsignalled. Returns whether it signalled the process while it was running.
    static func signal(_ process: Process, _ signal: Int32, when condition: @escaping @Sendable () -> Bool) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(60)
                while process.isRunning && Date() < deadline {
                    if condition() {
                        c.resume(returning: kill(process.processIdentifier, signal) == 0 && process.isRunning)
                        return
                    }
                    usleep(2000)
                }
                c.resume(returning: false)
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func sigtermKeepsTheAnswersSoFarAndTheSameCommandFinishes() async throws {
        let binary = try #require(HarvestCrashTests.binary, "build the distill binary first")
        let dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let items = 400
        try HarvestCommandTests.write((1...items).map { #"{"instruction": "Item \#($0): 你好 🙂", "input": "", "output": "好"}"# },
                                      dir + "/test.jsonl")
        func args(_ out: String) -> [String] {
            ["generate", "--model", dir + "/tiny.gguf", "--data", dir + "/test.jsonl", "--out", out,
             "--max-tokens", "24", "--batch", "1", "--threads", "1"]
        }
        let out = dir + "/out.jsonl"
        let process = try HarvestCrashTests.launch(binary, args(out), log: dir + "/stderr.log")
        let signalled = await Self.signal(process, SIGTERM) { Self.lines(out).count > 20 }
        await HarvestCrashTests.waitForExit(process)
        try #require(signalled, "generation finished before the signal; give it more work")
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGTERM)
        let stderr = try String(contentsOfFile: dir + "/stderr.log", encoding: .utf8)
        #expect(stderr.contains("SIGTERM") && stderr.contains("run the same command again"), "\(stderr)")

        // The output so far: whole lines only (the file ends in a newline), the first k items in order.
        let partial = Self.lines(out)
        #expect(partial.last == "")
        let written = partial.dropLast()
        #expect(written.count >= 20 && written.count < items)
        for (i, line) in written.enumerated() {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(row?["instruction"] as? String == "Item \(i + 1): 你好 🙂")
        }

        let resume = try HarvestCrashTests.launch(binary, args(out), log: dir + "/stderr-2.log")
        await HarvestCrashTests.waitForExit(resume)
        #expect(resume.terminationStatus == 0)
        let whole = try HarvestCrashTests.launch(binary, args(dir + "/whole.jsonl"), log: dir + "/stderr-3.log")
        await HarvestCrashTests.waitForExit(whole)
        #expect(whole.terminationStatus == 0)
        let resumed = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(Self.lines(out).count == items + 1)
        #expect(resumed == (try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.jsonl"))),
                "stopped and resumed must write the same bytes as one uninterrupted run")
    }
}
