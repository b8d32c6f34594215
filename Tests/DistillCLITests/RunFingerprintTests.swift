import DistillData
import DistillJudge
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// Judge and generate refuse to mix two configurations in one output, naming what changed, and lock their output.
struct RunFingerprintTests {
    func judgeCommand(_ argv: [String]) throws -> JudgeCommand {
        guard case .command(let command, _) = try DistillCLI.resolve(argv), let judge = command as? JudgeCommand else {
            throw UsageError("not a judge command")
        }
        return judge
    }

    @Test func aSecondJudgeInTheSameFolderIsRefusedNamingWhatChanged() async throws {
        let dir = try CLIFiles.folder()
        let t = try CLIFiles.generations(dir, "t", outputs: ["猫 🐱", "狗"], references: ["猫", "狗"])
        let good = #"{"reason": "好", "Correctness": 5, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#
        let base = ["judge", "--judge", "http://user:s3cret-pw@127.0.0.1:9/v1", "--inputs", t, "--out", dir + "/j"]
        try await judgeCommand(base + ["--model", "glm-4-flash"]).judge(client: ScriptedJudge { _ in good })
        let journal = try String(contentsOfFile: dir + "/j/judgments.jsonl", encoding: .utf8)
        let other = ScriptedJudge { _ in good }
        do {
            try await judgeCommand(base + ["--model", "qwen-max", "--temperature", "0.3"]).judge(client: other)
            Issue.record("a second judge was mixed into the folder")
        } catch {
            let message = "\(error)"
            #expect(message.contains("judge model: glm-4-flash → qwen-max"), "\(message)")
            #expect(message.contains("judge parameter temperature: 0.0 → 0.3"))
        }
        #expect(other.requests == 0)
        #expect(try String(contentsOfFile: dir + "/j/judgments.jsonl", encoding: .utf8) == journal)
        // The URL's password never reaches a file.
        for file in ["manifest.json", "judge-manifest.json", "report.md", "report.html"] {
            let text = try String(contentsOfFile: dir + "/j/" + file, encoding: .utf8)
            #expect(!text.contains("s3cret-pw"), "\(file)")
        }
        #expect(try String(contentsOfFile: dir + "/j/manifest.json", encoding: .utf8).contains("http://user:***@127.0.0.1:9/v1"))
        // Rule scoring into a judge's folder would overwrite its verdicts: refused too.
        #expect(await DistillCLI.main(["judge", "--score", "exact", "--inputs", t, "--out", dir + "/j"]) == 1)
        #expect(try String(contentsOfFile: dir + "/j/judgments.jsonl", encoding: .utf8) == journal)
    }
}

/// `distill generate`'s output is one model's: fingerprinted, locked, in a folder it creates.
@Suite struct GenerateFingerprintTests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-genfp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try TinyModel.writeGGUF(to: dir + "/other.gguf", seed: 2)
        let items = [#"{"instruction": "Name a colour.", "output": "Blue.", "category": "常识"}"#, #"{"instruction": "把这句话翻译成英文", "input": "猫"}"#]
        try (items.joined(separator: "\n") + "\n").write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
    }

    func generate(_ out: String, model: String = "tiny.gguf", _ extra: [String] = []) async -> Int32 {
        await DistillCLI.main(["generate", "--model", dir + "/" + model, "--data", dir + "/test.jsonl", "--out", out,
                               "--max-tokens", "6", "--threads", "1"] + extra)
    }

    @Test func createsTheFolderAndKeepsTheCategory() async throws {
        let out = dir + "/runs/x/generate/student.jsonl"
        #expect(await generate(out) == 0)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONDecoder().decode(GenerationRecord.self, from: Data($0.utf8)) }
        #expect(records.map(\.category) == ["常识", nil] && lines[0].hasSuffix("\"}") && !lines[1].contains("category"))
        #expect(FileManager.default.fileExists(atPath: dir + "/runs/x/generate/student.manifest.json"))
    }

    @Test func anotherModelPrecisionSamplingOrTemplateIsRefused() async throws {
        let out = dir + "/gen.jsonl"
        #expect(await generate(out) == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(await generate(out, model: "other.gguf") == 1)
        #expect(await generate(out, ["--temperature", "0.7"]) == 1)
        #expect(await generate(out, ["--chat-template", "gemma"]) == 1)
        #expect(await generate(out, ["--precision", "exact"]) == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        // The same command again is a resume with nothing to do; batch size is not part of the run.
        #expect(await generate(out, ["--batch", "1"]) == 0)
        let manifest = try String(contentsOfFile: dir + "/gen.manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"model_sha256\"") && manifest.contains("\"temperature\" : \"0.0\""))
    }

    @Test func anotherAdapterIsRefusedAndTheSameOneResumes() async throws {
        try TinyAdapter.write(to: dir + "/lora-a", seed: 1)
        try TinyAdapter.write(to: dir + "/lora-b", seed: 2)
        let out = dir + "/gen-adapter.jsonl"
        #expect(await generate(out, ["--adapter", dir + "/lora-a"]) == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(await generate(out, ["--adapter", dir + "/lora-b"]) == 1)
        #expect(await generate(out) == 1, "the base alone is another model")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        #expect(await generate(out, ["--adapter", dir + "/lora-a"]) == 0)
        let manifest = try String(contentsOfFile: dir + "/gen-adapter.manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"adapter_sha256\""))
        // Without an adapter the manifest has no adapter field and its fingerprint is what it was.
        let plain = dir + "/gen-plain.jsonl"
        #expect(await generate(plain) == 0)
        #expect(try !String(contentsOfFile: dir + "/gen-plain.manifest.json", encoding: .utf8).contains("adapter"))
        let a = GenerateManifest(model: "m", modelSHA256: "aa", adapter: "x", adapterSHA256: "bb", precision: "int8", sampling: [:], chatTemplate: "t")
        let b = GenerateManifest(model: "m", modelSHA256: "aa", adapter: "y", adapterSHA256: "cc", precision: "int8", sampling: [:], chatTemplate: "t")
        #expect(a.differences(from: b) == ["adapter: x (sha256 bb…) → y (sha256 cc…)"])
    }

    @Test func theRefusalNamesWhatChanged() throws {
        let a = GenerateManifest(model: "a.gguf", modelSHA256: "aa", precision: "int8", sampling: ["temperature": "0.0"], chatTemplate: "the model's own")
        let b = GenerateManifest(model: "b.gguf", modelSHA256: "bb", precision: "exact", sampling: ["temperature": "0.7"], chatTemplate: "gemma")
        #expect(a.differences(from: b) == ["model: a.gguf (sha256 aa…) → b.gguf (sha256 bb…)", "precision: int8 → exact",
                                           "sampling temperature: 0.0 → 0.7", "chat template: the model's own → gemma"])
        #expect(a.computeFingerprint() != b.computeFingerprint())
    }

    @Test func aMissingModelFailsBeforeAnythingIsCreated() async {
        let out = dir + "/nothing/here.jsonl"
        #expect(await generate(out, model: "missing.gguf") == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/nothing"))
    }

    @Test func anUnknownChatTemplateNameIsAUsageError() async {
        #expect(await generate(dir + "/g.jsonl", ["--chat-template", "vicuna"]) == 64)
    }

    @Test(.timeLimit(.minutes(1))) func aSecondProcessCannotWriteTheSameOutput() throws {
        // A real second process: `distill generate` on the same --out while this one holds the lock.
        guard let binary = HarvestCrashTests.binary else { Issue.record("the distill binary was not found"); return }
        let out = dir + "/locked.jsonl"
        let lock = try RunLock.acquire(dir + "/locked.lock", purpose: "test holder")
        defer { lock.release() }
        let r = try ReportCommandTests.run(["generate", "--model", dir + "/tiny.gguf", "--data", dir + "/test.jsonl", "--out", out,
                                            "--max-tokens", "4", "--threads", "1"])
        #expect(r.status == 1 && r.stderr.contains("in use by another distill process"), "\(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    func command(_ extra: [String]) throws -> GenerateCommand {
        let argv = ["generate", "--model", dir + "/tiny.gguf", "--data", dir + "/test.jsonl", "--out", dir + "/t.jsonl"] + extra
        guard case .command(let c, _) = try DistillCLI.resolve(argv), let g = c as? GenerateCommand else { throw UsageError("not generate") }
        return g
    }

    @Test func anUnknownTemplateIsRefusedUnlessOneIsNamed() throws {
        let lm = try LanguageModel(path: dir + "/tiny.gguf")
        #expect(lm.chatTemplate.family == "ChatML" && lm.chatTemplate.isRecognized)
        lm.useChatTemplate(ChatTemplate(templateText: "### Instruction:\n{{ messages[0]['content'] }}\n### Response:", bosToken: nil, eosToken: nil))
        #expect(throws: DataError.self) { try command([]).useChatTemplate(lm, path: "tiny.gguf", text: nil) }
        do { try command([]).useChatTemplate(lm, path: "tiny.gguf", text: nil) } catch {
            #expect("\(error)".contains("--chat-template") && "\(error)".contains("unknown"))
        }
        try command(["--chat-template", "gemma"]).useChatTemplate(lm, path: "tiny.gguf", text: nil)
        #expect(lm.chatTemplate.family == "Gemma")
        // The tiny model's BOS is <|im_start|> (id 1); Gemma's layout around it.
        #expect(lm.chatTemplate.render([(role: "user", content: "hi")], addGenerationPrompt: true)
            == "<|im_start|><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test(.timeLimit(.minutes(1))) func theTemplateFamilyIsNamedOnLoad() throws {
        let r = try ReportCommandTests.run(["generate", "--model", dir + "/tiny.gguf", "--data", dir + "/test.jsonl", "--out", dir + "/named.jsonl",
                                            "--max-tokens", "2", "--threads", "1"])
        #expect(r.status == 0 && r.stderr.contains("chat template ChatML"), "\(r.stderr)")
    }
}
