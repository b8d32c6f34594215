import DistillTestSupport
import Foundation
import Synchronization
import Testing

/// Harvest's memory does not grow with its input: the real `distill` binary, in a child process, on an 8 MB and a
/// 32 MB JSONL file of Chinese text, as a dry run and as a real run against the loopback stand-in. Peak RSS is the
/// child's own high-water mark (`VmHWM`), which the child writes as it exits (`DISTILL_PEAK_RSS_FILE`): `wait4`'s
/// `ru_maxrss` would also count the test process, whose mark a spawned child inherits, and polling /proc/PID/status
/// misses a child that exits between two polls. Before streaming, the peak grew
/// with the input (a dry run by about the input's size, a run by about 4×: 202 MB for 50 MB, 672 MB for 200 MB);
/// now the larger file may cost a little more (the journal's index, the allocator), far less than its extra 24 MB.
@Suite(.serialized) struct HarvestMemoryTests {
    /// Rows of about 64 KB: few enough requests to stay fast in a debug build, large enough that holding every
    /// item (or every row) shows at once.
    static let rowBytes = 64 << 10

    /// Writes an Alpaca JSONL file of about `megabytes` MB; returns its path and row count.
    static func input(_ dir: String, megabytes: Int) throws -> (path: String, rows: Int) {
        let path = dir + "/in-\(megabytes).jsonl"
        let text = String(repeating: "模型蒸馏把教师的知识交给学生🙂 ", count: rowBytes / 48)
        let rows = megabytes << 20 / rowBytes
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        for n in 1...rows {
            let line = #"{"id": "item-\#(n)", "instruction": "第\#(n)题：请总结下面的文字。", "input": "\#(n) \#(text)"}"# + "\n"
            try handle.write(contentsOf: Data(line.utf8))
        }
        return (path, rows)
    }

    /// Runs the binary with `args` (output to `log`) and returns its exit status and peak RSS in KB.
    /// Spawned through `Process`, which closes every other descriptor in the child: a raw posix_spawn would hand it
    /// the pipes other tests in this process are reading to EOF, and they would wait on this child.
    static func peakRSS(_ binary: String, _ args: [String], log: String, deadline: Duration = .seconds(150)) async throws
        -> (status: Int32, peakKB: Int) {
        let report = log + ".peak-rss"
        FileManager.default.createFile(atPath: log, contents: nil)
        guard let logHandle = FileHandle(forWritingAtPath: log) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? logHandle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["DISTILL_PEAK_RSS_FILE"] = report
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = logHandle
        try process.run()
        let end = ContinuousClock.now + deadline
        while process.isRunning {
            if ContinuousClock.now > end {
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
                Issue.record("distill \(args.prefix(3).joined(separator: " ")) ran past \(deadline); killed")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let exit = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        let peak = (try? String(contentsOfFile: report, encoding: .utf8)).flatMap { Int($0.filter(\.isNumber)) }
        #expect(peak != nil, "distill \(args.prefix(3).joined(separator: " ")) wrote no peak RSS to \(report)")
        return (exit, peak ?? 0)
    }

    @Test(.timeLimit(.minutes(6))) func peakMemoryStaysFlatAsTheInputGrows() async throws {
        guard let binary = HarvestCrashTests.binary else {
            Issue.record("the distill binary was not found next to the tests (build with `swift build --build-tests`)")
            return
        }
        let dir = try HarvestCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let standIn = try TeacherStandIn { _ in .chat("回答：模型蒸馏 🙂") }
        defer { standIn.stop() }
        var dry: [Int] = [], real: [Int] = []
        for mb in [8, 32] {
            let (data, rows) = try Self.input(dir, megabytes: mb)
            let common = ["harvest", "--recipe", "answer", "--data", data, "--teacher", standIn.baseURL, "--model", "stand-in",
                          "--prompts", HarvestCommandTests.promptsDirectory, "--concurrency", "8", "--max-tokens", "64"]
            let d = try await Self.peakRSS(binary, common + ["--dry-run"], log: dir + "/dry-\(mb).log")
            #expect(d.status == 0, "dry run of \(mb) MB: \((try? String(contentsOfFile: dir + "/dry-\(mb).log", encoding: .utf8)) ?? "")")
            let run = dir + "/run-\(mb)"
            let r = try await Self.peakRSS(binary, common + ["--out", run], log: dir + "/run-\(mb).log")
            #expect(r.status == 0, "run of \(mb) MB: \((try? String(contentsOfFile: dir + "/run-\(mb).log", encoding: .utf8)) ?? "")")
            // The run did the work: every row is in the output, in input order.
            let ids = HarvestCommandTests.rows(run + "/answer.jsonl").compactMap { $0["id"] as? String }
            let inOrder = ids == (1...rows).map { "item-\($0)" }
            #expect(inOrder, "answer.jsonl of \(mb) MB holds \(ids.count) of \(rows) rows, or not in input order")
            dry.append(d.peakKB)
            real.append(r.peakKB)
        }
        // 24 MB more input; allow a quarter of that in extra peak memory (holding every item alone costs about 24 MB).
        let allowed = 6 << 10
        #expect(dry[1] - dry[0] < allowed, "dry run peak RSS: \(dry[0] >> 10) MB for 8 MB, \(dry[1] >> 10) MB for 32 MB")
        #expect(real[1] - real[0] < allowed, "run peak RSS: \(real[0] >> 10) MB for 8 MB, \(real[1] >> 10) MB for 32 MB")
    }
}
