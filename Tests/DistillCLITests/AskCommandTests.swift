import DistillTestSupport
import Foundation
import Testing

/// `distill ask` as a user runs it: the real binary, a stand-in teacher over loopback, and an API key that must never
/// show up in anything the process prints or writes, even when the server echoes it back.
@Suite struct AskCommandTests {
    static let key = "sk-distill-TOPSECRET-7f3a9c1e5b"

    /// The `distill` executable next to the test bundle.
    static var binary: URL? {
        let dir = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("distill"), dir.deletingLastPathComponent().appendingPathComponent("distill"),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("distill")]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        return nil
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func ask(_ args: [String], in dir: URL) async throws -> Run {
        let exe = try #require(binary, "the distill binary should be built beside the tests")
        let process = Process()
        process.executableURL = exe
        process.arguments = ["ask"] + args
        process.currentDirectoryURL = dir
        process.environment = ["DISTILL_TEST_KEY": key, "PATH": "/usr/bin:/bin", "HOME": dir.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes on their own threads (never the cooperative pool); the child may fill either.
        async let stdout = Self.readAll(out.fileHandleForReading)
        async let stderr = Self.readAll(err.fileHandleForReading)
        let (o, e) = await (stdout, stderr)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { process.waitUntilExit(); c.resume() }.start()
        }
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                   stderr: String(decoding: e, as: UTF8.self))
    }

    static func readAll(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { c in Thread { c.resume(returning: handle.readDataToEndOfFile()) }.start() }
    }

    @Test func answersAndPrintsUsage() async throws {
        let standIn = try TeacherStandIn { _ in .chat(["天空是蓝色的，因为瑞利散射。"], promptTokens: 12, completionTokens: 9) }
        defer { standIn.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await Self.ask(["--teacher", standIn.baseURL, "--model", "glm-4-flash", "--key-env", "DISTILL_TEST_KEY",
                                      "--system", "简洁", "--temperature", "0.2", "--max-tokens", "40", "为什么天空是蓝色的？"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "天空是蓝色的，因为瑞利散射。\n")
        #expect(run.stderr.contains("12 in / 9 out tokens"))
        let sent = try #require(standIn.requests.first)
        #expect(sent.json?["temperature"] as? Double == 0.2)
        #expect(sent.json?["max_tokens"] as? Int == 40)
        #expect(sent.lastMessage == "为什么天空是蓝色的？")
    }

    @Test func jsonFlagPrintsTheResponseObject() async throws {
        let standIn = try TeacherStandIn { _ in .chat("ok 🙂") }
        defer { standIn.stop() }
        let run = try await Self.ask(["--teacher", standIn.baseURL, "--model", "m", "--json", "hi"],
                                     in: FileManager.default.temporaryDirectory)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let choice = (object?["choices"] as? [[String: Any]])?.first
        #expect((choice?["message"] as? [String: Any])?["content"] as? String == "ok 🙂")
        #expect(choice?["finish_reason"] as? String == "stop")
    }

    @Test func usageErrorsExit64() async throws {
        let tmp = FileManager.default.temporaryDirectory
        #expect(try await Self.ask(["--model", "m", "hi"], in: tmp).status == 64)
        #expect(try await Self.ask(["--teacher", "nowhere", "hi"], in: tmp).status == 64)
        #expect(try await Self.ask(["--teacher", "http://127.0.0.1:9/v1", "hi"], in: tmp).status == 64)
    }

    /// Success and every kind of failure, with a server that echoes the Authorization header into its error messages
    /// and headers; the key reaches the server but nothing the process prints, nor any file it leaves.
    @Test func apiKeyNeverAppearsInOutputErrorsOrFiles() async throws {
        let standIn = try TeacherStandIn { request in
            let auth = request.header("authorization") ?? ""
            switch request.lastMessage ?? "" {
            case "ok": return .chat("fine")
            case "401": return .error(status: 401, type: "invalid_request_error", code: "invalid_api_key",
                                      message: "Incorrect API key provided: \(auth).", headers: [("x-echo", auth)])
            case "500": return .error(status: 500, type: "server_error", message: "upstream rejected \(auth)")
            case "quota": return .error(status: 429, type: "insufficient_quota", code: "insufficient_quota",
                                        message: "quota exhausted for \(auth)")
            case "json": return .raw(status: 200, body: Data("not json \(auth)".utf8))
            default: return .hangUp
            }
        }
        defer { standIn.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ask-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var captured = ""
        for prompt in ["ok", "401", "500", "quota", "json", "hangup"] {
            let run = try await Self.ask(["--teacher", standIn.baseURL, "--model", "m", "--key-env", "DISTILL_TEST_KEY",
                                          "--attempts", "2", "--json", prompt], in: dir)
            #expect((run.status == 0) == (prompt == "ok"), "\(prompt): \(run.stderr)")
            captured += run.stdout + run.stderr
        }
        // The failures were reported (so the echoes were in play) ...
        #expect(captured.contains("Incorrect API key provided: Bearer [redacted]"))
        #expect(captured.contains("out of quota"))
        // ... the key really was sent ...
        #expect(standIn.requests.allSatisfy { $0.header("authorization") == "Bearer \(Self.key)" })
        // ... and it appears nowhere: not in stdout/stderr, not in any file left in the working directory.
        #expect(!captured.contains(Self.key))
        #expect(!captured.contains("TOPSECRET"))
        let files = FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []
        for file in files {
            let text = (try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)) ?? ""
            #expect(!text.contains("TOPSECRET"), "\(file) holds the key")
        }
    }
}
