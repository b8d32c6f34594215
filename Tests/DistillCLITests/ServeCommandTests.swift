@testable import DistillCLI
import DistillData
import DistillHTTP
import DistillTestSupport
import Foundation
import Testing

/// `distill serve`: option parsing, and the real binary serving the tiny model until SIGTERM, then exiting 0.
@Suite(.serialized) struct ServeCommandTests {
    static func parse(_ argv: [String]) throws -> ServeCommand? {
        guard case .command(let command, _) = try DistillCLI.resolve(argv) else { return nil }
        return command as? ServeCommand
    }

    @Test func modelsAreNamedAndOptionsChecked() throws {
        let s = try #require(try Self.parse(["serve", "--model", "student=/x/s.gguf", "--model", "/y/base.gguf", "--slots", "4"]))
        #expect(s.models.map(\.name) == ["student", "base"])
        #expect(s.models.map(\.path) == ["/x/s.gguf", "/y/base.gguf"])
        #expect(s.slots == 4 && s.options.host == "127.0.0.1" && s.options.port == 8080)
        #expect(try Self.parse(["serve"])?.models.first?.name == "smollm2-135m")
        let a = try #require(try Self.parse(["serve", "--model", "base=/y/base.gguf", "--adapter", "tutor=out/lora", "--adapter", "critic=out/b"]))
        #expect(a.adapters.map(\.name) == ["tutor", "critic"] && a.adapters.map(\.directory) == ["out/lora", "out/b"])
        for bad in [["serve", "--model", "a=x", "--model", "a=y"], ["serve", "--adapter", "tutor"], ["serve", "--adapter", "=out/lora"],
                    ["serve", "--model", "base=x", "--adapter", "base=out/lora"], ["serve", "--port", "70000"], ["serve", "--slots", "0"]] {
            #expect(throws: UsageError.self, "\(bad)") { _ = try Self.parse(bad) }
        }
    }

    @Test func servesUntilSIGTERMThenExitsZero() async throws {
        guard let binary = HarvestCrashTests.binary else { Issue.record("no distill binary next to the tests"); return }
        let dir = NSTemporaryDirectory() + "serve-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let log = dir + "/stderr.log"
        let p = try HarvestCrashTests.launch(binary, ["serve", "--model", "tiny=\(dir)/tiny.gguf", "--port", "0",
                                                      "--precision", "exact", "--slots", "2"], log: log)
        defer { if p.isRunning { p.terminate() } }
        // The listening address is the first line on stderr.
        var port: Int?
        let deadline = ContinuousClock.now + .seconds(60)
        while port == nil, ContinuousClock.now < deadline, p.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: "http://127.0.0.1:") {
                port = Int(text[r.upperBound...].prefix { $0.isNumber })
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let bound = try #require(port, "no address on stderr: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let client = try HTTPClient()
        let r = try await client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(bound)/v1/chat/completions",
            body: Array(#"{"model":"tiny","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#.utf8)))
        #expect(r.status == 200)
        kill(p.processIdentifier, SIGTERM)
        let stop = ContinuousClock.now + .seconds(30)
        while p.isRunning && ContinuousClock.now < stop { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!p.isRunning)
        #expect(p.terminationStatus == 0)
        #expect(p.terminationReason == .exit)
    }
}
