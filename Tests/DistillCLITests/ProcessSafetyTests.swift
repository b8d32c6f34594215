import DistillTestSupport
import Foundation
import Testing

/// Real processes on one run or file: a second harvest on a run directory is refused at once naming the holder, and
/// a `data convert` ended by a signal leaves no hidden temporary behind.
@Suite(.serialized) struct ProcessSafetyTests {
    typealias C = HarvestCrashTests
    typealias H = HarvestCommandTests

    @Test(.timeLimit(.minutes(1))) func secondHarvestOnOneRunIsRefusedAtOnceNamingTheHolder() async throws {
        guard let binary = C.binary else {
            Issue.record("the distill binary was not found next to the tests")
            return
        }
        let dir = try H.temporaryDirectory()
        let data = dir + "/items.jsonl"
        try H.write((1...60).map { #"{"id": "\#($0)", "instruction": "Item #\#($0): 你好"}"# }, data)
        let standIn = try TeacherStandIn { _ in .delayed(.milliseconds(100), .chat("ok 🙂")) }
        defer { standIn.stop() }
        let run = dir + "/run"
        let args = ["harvest", "--recipe", "answer", "--data", data, "--out", run, "--teacher", standIn.baseURL,
                    "--model", "stand-in", "--prompts", H.promptsDirectory, "--concurrency", "2"]
        let first = try C.launch(binary, args, log: dir + "/first.log")
        while C.journalLineCount(run) < 2, first.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(first.isRunning)
        let started = ContinuousClock.now
        let second = try C.launch(binary, args, log: dir + "/second.log")
        await C.waitForExit(second)
        #expect(ContinuousClock.now - started < .seconds(5), "the second process waited instead of being refused")
        #expect(second.terminationReason == .exit && second.terminationStatus == 1)
        let message = try String(contentsOfFile: dir + "/second.log", encoding: .utf8)
        #expect(message.contains("in use by another distill process") && message.contains("pid \(first.processIdentifier)"),
                "\(message)")
        #expect(first.isRunning, "the second process disturbed the first")
        kill(first.processIdentifier, SIGTERM)
        await C.waitForExit(first)
        // Every request the teacher saw was sent once, by the first process.
        let journal = C.journalItems(run)
        #expect(standIn.requestCount == journal.count && Set(journal).count == journal.count)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [SIGTERM, SIGINT])
    func killedConvertLeavesNoTemporary(_ sig: Int32) async throws {
        guard let binary = C.binary else {
            Issue.record("the distill binary was not found next to the tests")
            return
        }
        let dir = try H.temporaryDirectory()
        let input = dir + "/big.jsonl"
        let line = #"{"instruction": "把这句话翻译成英文：今天天气很好，我们去公园散步吧。", "input": "", "output": "The weather is nice today; let's take a walk in the park. 🙂"}"#
        let block = String(repeating: line + "\n", count: 1000)
        let handle = try #require(FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: input, contents: nil); return input }()))
        for _ in 0..<300 { handle.write(Data(block.utf8)) }
        try handle.close()
        let out = dir + "/out.jsonl"
        let p = try C.launch(binary, ["data", "convert", input, "--to", "chat-jsonl", "--out", out], log: dir + "/convert.log")
        func temporaries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") }
        }
        while temporaries().isEmpty, p.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        #expect(p.isRunning, "convert finished before it could be stopped; make the input larger")
        kill(p.processIdentifier, sig)
        await C.waitForExit(p)
        #expect(p.terminationReason == .exit && p.terminationStatus == 128 + sig)
        #expect(temporaries().isEmpty, "left behind: \(temporaries())")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A dry run over 6 MB of items stays well under what the old per-item filler rows cost (about 24× the input):
    /// peak RSS of the real binary, measured by /usr/bin/time.
    @Test(.timeLimit(.minutes(1))) func dryRunMemoryDoesNotScaleWithFillerRows() async throws {
        guard let binary = C.binary, FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else { return }
        let dir = try H.temporaryDirectory()
        let data = dir + "/items.jsonl"
        let line = #"{"id": "ID", "instruction": "把这句话翻译成英文：今天天气很好，我们去公园散步吧。", "input": "", "output": "ok"}"#
        let lines = (1...36_000).map { line.replacingOccurrences(of: "ID", with: String($0)) }
        try H.write(lines, data)
        let bytes = (try FileManager.default.attributesOfItem(atPath: data)[.size] as? NSNumber)?.intValue ?? 0
        let p = try C.launch("/usr/bin/time", ["-v", binary, "harvest", "--recipe", "answer", "--data", data,
                                               "--teacher", "http://127.0.0.1:9/v1", "--model", "m", "--dry-run",
                                               "--out", dir + "/run"], log: dir + "/time.log")
        await C.waitForExit(p)
        #expect(p.terminationStatus == 0)
        let log = try String(contentsOfFile: dir + "/time.log", encoding: .utf8)
        let kb = log.split(separator: "\n").first { $0.contains("Maximum resident set size") }
            .flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
        #expect(kb > 0 && kb * 1024 < 60_000_000 + 4 * bytes, "peak RSS \(kb) kB for \(bytes) bytes of input")
    }
}
