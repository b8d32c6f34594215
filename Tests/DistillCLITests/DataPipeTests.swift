import Foundation
import Testing

/// `distill data` with real pipes: `-` is stdin and stdout, a pipe path is read (not taken as 0 items), and
/// `check` caps the problems it lists with a count of the rest.
@Suite struct DataPipeTests {
    typealias C = HarvestCrashTests

    /// Runs the binary with `stdin` fed through a pipe; returns the exit status, stdout and stderr.
    static func run(_ args: [String], stdin: String = "") async throws -> (status: Int32, out: String, err: String) {
        guard let binary = C.binary else { throw CancellationError() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        let feed = Task.detached {
            inPipe.fileHandleForWriting.write(Data(stdin.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        let out = Task.detached { outPipe.fileHandleForReading.readDataToEndOfFile() }
        let err = Task.detached { errPipe.fileHandleForReading.readDataToEndOfFile() }
        _ = await feed.value
        let o = await out.value, e = await err.value
        await C.waitForExit(p)
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    static let items = (1...5).map { #"{"instruction": "问题 \#($0) 🙂", "input": "", "output": "答 \#($0)"}"# }.joined(separator: "\n") + "\n"

    @Test func dashIsStdinAndStdout() async throws {
        guard C.binary != nil else { Issue.record("the distill binary was not found next to the tests"); return }
        let r = try await Self.run(["data", "convert", "-", "--to", "chat-jsonl", "--out", "-"], stdin: Self.items)
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 5 && lines.allSatisfy { $0.hasPrefix(#"{"messages":"#) }, "\(r.out)")
        #expect(r.err.contains("5 items"))
        let stats = try await Self.run(["data", "stats", "/dev/stdin"], stdin: Self.items)
        #expect(stats.status == 0 && stats.out.contains("5"), "\(stats.out) \(stats.err)")
        let empty = try await Self.run(["data", "stats", "-"], stdin: "")
        #expect(empty.status == 1, "an empty pipe is not a dataset of 0 items")
    }

    @Test func checkListsAtMostMaxProblemsAndCountsTheRest() async throws {
        guard C.binary != nil else { Issue.record("the distill binary was not found next to the tests"); return }
        let dir = try HarvestCommandTests.temporaryDirectory()
        let file = dir + "/bad.jsonl"
        try HarvestCommandTests.write((1...120).map { #"{"instruction": "问题 \#($0)", "input": "", "output": ""}"# }, file)
        let r = try await Self.run(["data", "check", file, "--max-problems", "10"])
        #expect(r.status == 1)
        let listed = r.out.split(separator: "\n").filter { $0.hasPrefix(file + ":") && $0.dropFirst(file.count + 1).first?.isNumber == true }
        #expect(listed.count == 10, "\(r.out.prefix(400))")
        #expect(r.out.contains("and 110 more problem(s) not listed"), "\(r.out.suffix(300))")
    }
}
