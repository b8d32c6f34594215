import DistillData
import Foundation
import Testing

/// A small manifest of the kind every stage writes: one input, a model name and parameters.
struct StageManifest: RunManifest, Equatable {
    static let stage = "generate"
    var inputs: [RunInput]
    var model: String
    var parameters: [String: String]
    var fingerprint = ""
    var createdAt = ""

    func computeFingerprint() -> String {
        struct C: Encodable { var inputs: [String]; var model: String; var parameters: [String: String] }
        return Self.canonicalHash(C(inputs: inputs.map(\.sha256), model: model, parameters: parameters))
    }

    func differences(from new: StageManifest) -> [String] {
        RunDifferences.inputs(inputs, new.inputs) + RunDifferences.value("model", model, new.model)
            + RunDifferences.values(parameters, new.parameters)
    }
}

@Suite struct RunDirectoryTests {
    func manifest(_ folder: TestFolder, data: String = "{\"instruction\": \"翻译：你好\"}\n", model: String = "smollm2",
                  temperature: String = "0") throws -> StageManifest {
        let path = folder.write("test.jsonl", data)
        return StageManifest(inputs: [try RunInput(role: "data", path: path)], model: model,
                             parameters: ["temperature": temperature, "max_tokens": "64"])
    }

    @Test func sameManifestResumesAndChangedOneIsRefusedNamingWhatChanged() throws {
        let folder = TestFolder()
        let run = folder.path + "/run"
        let first = try RunDirectory.open(run, manifest: try manifest(folder))
        #expect(!first.resumed)
        first.close()
        let again = try RunDirectory.open(run, manifest: try manifest(folder))
        #expect(again.resumed)
        #expect(again.manifest.createdAt == first.manifest.createdAt)
        again.close()
        let changed = try manifest(folder, data: "{\"instruction\": \"翻译：再见\"}\n", model: "student", temperature: "0.7")
        do {
            _ = try RunDirectory.open(run, manifest: changed)
            Issue.record("a changed manifest was accepted")
        } catch let e as RunDirectoryError {
            #expect(e.kind == .changed)
            #expect(e.changes.contains { $0.hasPrefix("input data changed") })
            #expect(e.changes.contains("model: smollm2 → student"))
            #expect(e.changes.contains("parameter temperature: 0 → 0.7"))
            #expect(e.message.contains("generate run"))
        }
    }

    @Test func directoryIsPrivateAndNamedRunsLiveSideBySide() throws {
        let folder = TestFolder()
        let dir = folder.path + "/gen"
        let a = try RunDirectory.open(dir, manifest: try manifest(folder, model: "teacher"), name: "teacher")
        let b = try RunDirectory.open(dir, manifest: try manifest(folder, model: "student"), name: "student")
        #expect(FileManager.default.fileExists(atPath: dir + "/teacher.manifest.json"))
        #expect(FileManager.default.fileExists(atPath: dir + "/student.manifest.json"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o700)
        a.close()
        b.close()
    }

    @Test func aSecondProcessHoldingTheLockIsRefusedAtOnceUntilItExits() throws {
        let folder = TestFolder()
        let run = folder.path + "/run"
        let first = try RunDirectory.open(run, manifest: try manifest(folder))
        first.close()
        // A real second process takes the run's lock with flock(2) and says so; killing it must free the run.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import fcntl, sys, time
            f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(60)
            """, run + "/.lock"]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let said = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        #expect(said.hasPrefix("locked"))
        var refused: DataError? = nil
        do {
            let probe = try RunLock.acquire(run + "/.lock", purpose: "probe")
            probe.release()
        } catch let e as DataError {
            refused = e
        }
        let error = try #require(refused, "the lock was granted while another process held it")
        #expect(error.message.contains("in use by another distill process"))
        let started = Date()
        #expect(throws: DataError.self) { _ = try RunDirectory.open(run, manifest: try manifest(folder)) }
        #expect(Date().timeIntervalSince(started) < 5, "refused at once, not after waiting")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let after = try RunDirectory.open(run, manifest: try manifest(folder))
        #expect(after.resumed)
        after.close()
    }

    @Test func lockFileNamesTheHolderAndMasksURLPasswords() throws {
        let folder = TestFolder()
        let lock = try RunLock.acquire(folder.path + "/x.lock", purpose: "test")
        let text = folder.read("x.lock")
        #expect(text.hasPrefix("pid \(getpid()), since "))
        lock.release()
        #expect(Redaction.maskingURLPasswords("--teacher https://bob:s3cr3t@api.example.com/v1 --model m")
            == "--teacher https://bob:***@api.example.com/v1 --model m")
        #expect(Redaction.maskingURLPasswords("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1")
        #expect(Redaction.maskingURLPasswords("https://user@host/v1") == "https://user@host/v1")
    }

    @Test func startNewMovesTheOldRunAside() throws {
        let folder = TestFolder()
        let run = folder.path + "/run"
        let first = try RunDirectory.open(run, manifest: try manifest(folder))
        first.close()
        try Data("{\"paid\": true}\n".utf8).write(to: URL(fileURLWithPath: run + "/results.jsonl"))
        let fresh = try RunDirectory.open(run, manifest: try manifest(folder, temperature: "1"), startNew: true)
        let aside = try #require(fresh.movedAside)
        #expect(FileManager.default.fileExists(atPath: aside + "/results.jsonl"))
        #expect(!fresh.resumed)
        fresh.close()
    }
}
