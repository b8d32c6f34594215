import DistillTestSupport
import Foundation
import Synchronization
import Testing

/// The crash test of the harvest issue: the real `distill` binary, SIGKILLed three times during a 2,000-request run
/// against a stand-in that injects 20% faults (500s, 429s, connection resets). After resuming: every item present
/// exactly once, no request recorded in the journal was ever sent again, and every failure accounted for.
@Suite(.serialized) struct HarvestCrashTests {
    static let items = 2000

    /// The `distill` executable built next to the test bundle.
    static var binary: String? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("distill").path,
            HarvestCommandTests.repositoryRoot.appendingPathComponent(".build/debug/distill").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What the stand-in did with each request: the item it was for, and whether it answered 200.
    final class Log: Sendable {
        let entries = Mutex<[(item: Int, ok: Bool)]>([])
        func add(_ item: Int, _ ok: Bool) { entries.withLock { $0.append((item, ok)) } }
        var count: Int { entries.withLock { $0.count } }
        func items(from start: Int) -> [Int] { entries.withLock { Array($0[start...].map(\.item)) } }
    }

    /// 20% of requests fail: 500, 429 (with a short retry-after), or a reset mid-body; the rest answer after a few ms.
    static func faultyTeacher(_ log: Log) -> @Sendable (StandInRequest) async -> StandInReply {
        { r in
            let prompt = r.lastMessage ?? ""
            let item = Int(prompt.split(separator: "#").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? -1
            var rng = SystemRandomNumberGenerator()
            let roll = Int.random(in: 0..<100, using: &rng)
            let ok = roll >= 20
            log.add(item, ok)
            switch roll {
            case 0..<7: return .error(status: 500, type: "server_error", message: "injected 500")
            case 7..<14: return .error(status: 429, type: "rate_limit_exceeded", message: "injected 429",
                                       headers: [("retry-after-ms", "20")])
            case 14..<20: return .resetMidBody(.chat("never arrives"))
            default: return .delayed(.milliseconds(8), .chat("answer to item \(item) 🙂 答"))
            }
        }
    }

    static func journalItems(_ run: String) -> [String] {
        HarvestCommandTests.rows(run + "/journal.jsonl").compactMap { $0["item"] as? String }
    }

    static func launch(_ binary: String, _ args: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test(.timeLimit(.minutes(2))) func killedThreeTimesLosesNothingAndResendsNothingRecorded() async throws {
        guard let binary = Self.binary else {
            Issue.record("the distill binary was not found next to the tests (build with `swift build --build-tests`)")
            return
        }
        let dir = try HarvestCommandTests.temporaryDirectory()
        let data = dir + "/items.jsonl"
        try HarvestCommandTests.write((1...Self.items).map { #"{"id": "\#($0)", "instruction": "Item #\#($0): 用一句话回答 🙂"}"# }, data)
        let log = Log()
        let standIn = try TeacherStandIn(handler: Self.faultyTeacher(log))
        defer { standIn.stop() }
        let run = dir + "/run"
        let args = ["harvest", "--recipe", "answer", "--data", data, "--out", run, "--teacher", standIn.baseURL,
                    "--model", "stand-in", "--prompts", HarvestCommandTests.promptsDirectory, "--concurrency", "8",
                    "--attempts", "2", "--retry-base", "0.02", "--progress-every", "1"]

        // Three runs killed with SIGKILL once the journal has grown past a mark; after each, the stand-in must never
        // again see a request for an item the journal held at the moment of the kill.
        var phases: [(requestStart: Int, recorded: Set<String>)] = []
        for (n, mark) in [350, 800, 1250].enumerated() {
            let requestStart = log.count
            let process = try Self.launch(binary, args, log: dir + "/stderr-\(n).log")
            let deadline = ContinuousClock.now + .seconds(25)
            while Self.journalLineCount(run) < mark, process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(process.isRunning, "run \(n) ended before it could be killed")
            kill(process.processIdentifier, SIGKILL)
            await Self.waitForExit(process)
            #expect(process.terminationReason == .uncaughtSignal)
            phases.append((requestStart, Set(Self.journalItems(run))))
        }
        // Resume to the end (some requests fail for good after 2 attempts), then retry those.
        let resumeStart = log.count
        let finish = try Self.launch(binary, args, log: dir + "/stderr-3.log")
        await Self.waitForExit(finish)
        // Some requests failed for good after 2 attempts: the run says so with exit 1 (outputs are written).
        #expect(finish.terminationStatus == (HarvestCommandTests.rows(run + "/failures.jsonl").isEmpty ? 0 : 1))
        phases.append((resumeStart, Set(Self.journalItems(run))))

        let answered = HarvestCommandTests.rows(run + "/answer.jsonl").compactMap { $0["id"] as? String }
        let failures = HarvestCommandTests.rows(run + "/failures.jsonl")
        let failedItems = Set(failures.compactMap { $0["item"] as? String })
        #expect(Set(answered).count == answered.count, "an item appears twice in the output")
        #expect(Set(answered).isDisjoint(with: failedItems))
        #expect(Set(answered).union(failedItems) == Set((1...Self.items).map(String.init)), "an item is neither answered nor failed")
        #expect(failures.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })

        let retryStart = log.count
        let retry = try Self.launch(binary, args + ["--attempts", "8", "--retry-failed"], log: dir + "/stderr-4.log")
        await Self.waitForExit(retry)
        #expect(retry.terminationStatus == 0)
        let final = HarvestCommandTests.rows(run + "/answer.jsonl").compactMap { $0["id"] as? String }
        #expect(final.count == Self.items && Set(final).count == Self.items, "every item present exactly once")
        // The retry run only asked for the items that had failed.
        #expect(Set(log.items(from: retryStart).map(String.init)).isSubset(of: failedItems))

        // No recorded request was sent again: requests arriving after each kill are for items not yet journaled.
        for (k, phase) in phases.enumerated() {
            let later = k + 1 < phases.count ? phases[k + 1].requestStart : retryStart
            let resent = log.items(from: later).map(String.init).filter(phase.recorded.contains)
            #expect(resent.isEmpty, "after kill \(k + 1): \(resent.count) requests for items already journaled, e.g. \(resent.prefix(3))")
        }
        let journal = Self.journalItems(run)
        #expect(journal.count == Self.items && Set(journal).count == Self.items, "the journal holds each request once")
        #expect(log.count >= Self.items)
    }

    /// Ctrl-C, SIGTERM and SIGHUP alike: stop sending, finish the requests in flight, journal them, write the outputs,
    /// exit 128 + the signal (130 for Ctrl-C); nothing answered is sent again on resume.
    @Test(.timeLimit(.minutes(1)), arguments: [SIGINT, SIGTERM, SIGHUP])
    func signalStopsSendingAndWritesWhatWasHarvested(_ sig: Int32) async throws {
        guard let binary = Self.binary else {
            Issue.record("the distill binary was not found next to the tests")
            return
        }
        let dir = try HarvestCommandTests.temporaryDirectory()
        let data = dir + "/items.jsonl"
        let items = 600
        try HarvestCommandTests.write((1...items).map { #"{"id": "\#($0)", "instruction": "Item #\#($0): 你好"}"# }, data)
        let standIn = try TeacherStandIn { _ in .delayed(.milliseconds(8), .chat("ok 🙂")) }
        defer { standIn.stop() }
        let run = dir + "/run"
        let args = ["harvest", "--recipe", "answer", "--data", data, "--out", run, "--teacher", standIn.baseURL,
                    "--model", "stand-in", "--prompts", HarvestCommandTests.promptsDirectory, "--concurrency", "4"]
        let process = try Self.launch(binary, args, log: dir + "/stderr.log")
        try await eventually("150 journal lines or the process ending", every: .milliseconds(20)) { Self.journalLineCount(run) >= 150 || !process.isRunning }
        #expect(process.isRunning)
        kill(process.processIdentifier, sig)
        await Self.waitForExit(process)
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + sig)
        let stderr = try String(contentsOfFile: dir + "/stderr.log", encoding: .utf8)
        #expect(stderr.contains("finishing the requests in flight") && stderr.contains("run the same command again"))
        let journaled = Self.journalItems(run)
        let written = HarvestCommandTests.rows(run + "/answer.jsonl").compactMap { $0["id"] as? String }
        #expect(written.count == journaled.count && written.count < items, "outputs = what the journal held at the stop")
        #expect(Set(written) == Set(journaled))
        let resume = try Self.launch(binary, args, log: dir + "/stderr-2.log")
        await Self.waitForExit(resume)
        #expect(resume.terminationStatus == 0)
        #expect(HarvestCommandTests.rows(run + "/answer.jsonl").count == items)
        #expect(standIn.requestCount == items)
    }

    /// Waits for a child process without blocking a thread of the concurrency pool (other suites' timing tests
    /// share its few threads).
    static func waitForExit(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        process.waitUntilExit()
    }

    /// Lines in the journal so far (memchr: this is polled while the harvester runs).
    static func journalLineCount(_ run: String) -> Int {
        guard let data = FileManager.default.contents(atPath: run + "/journal.jsonl") else { return 0 }
        return data.withUnsafeBytes { raw -> Int in
            guard var p = raw.baseAddress else { return 0 }
            var left = raw.count
            var lines = 0
            while left > 0, let hit = memchr(p, 0x0A, left) {
                lines += 1
                let next = UnsafeRawPointer(hit) + 1
                left -= next - p
                p = next
            }
            return lines
        }
    }
}
