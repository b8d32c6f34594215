import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `distill generate` end to end on the tiny test model (real tokenizer, random weights): format, order, resume.
@Suite struct GenerateCommandTests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-generate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let items = [
            #"{"instruction": "Name a colour.", "input": "", "output": "Blue."}"#,
            #"{"instruction": "把这句话翻译成英文", "input": "我喜欢猫 🐱", "output": "I like cats."}"#,
            #"{"instruction": "Seed-format item", "input": "x = 1", "reference_output": "ref ✓"}"#,
            #"{"instruction": "No reference at all"}"#,
            #"{"instruction": "Count", "input": "1 2 3", "output": "4"}"#,
        ]
        try (items.joined(separator: "\n") + "\n").write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
    }

    func generate(_ out: String, _ extra: [String] = []) async -> Int32 {
        await DistillCLI.main(["generate", "--model", dir + "/tiny.gguf", "--data", dir + "/test.jsonl", "--out", out,
                               "--max-tokens", "10", "--threads", "1"] + extra)
    }

    func records(_ path: String) throws -> [GenerationRecord] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(GenerationRecord.self, from: Data($0.utf8))
        }
    }

    @Test func writesSeedFormatInInputOrder() async throws {
        let out = dir + "/gen.jsonl"
        #expect(await generate(out, ["--batch", "3"]) == 0)
        let r = try records(out)
        #expect(r.map(\.instruction) == ["Name a colour.", "把这句话翻译成英文", "Seed-format item", "No reference at all", "Count"])
        #expect(r.map(\.input) == ["", "我喜欢猫 🐱", "x = 1", "", "1 2 3"])
        #expect(r.map(\.referenceOutput) == ["Blue.", "I like cats.", "ref ✓", "", "4"])
        // The answer is the engine's own greedy continuation of the chat-templated item.
        let lm = try LanguageModel(path: dir + "/tiny.gguf")
        var direct = ""
        try lm.generator(slots: 1, capacity: 128).generate(
            [GenerationRequest(id: 0, prompt: lm.chatPrompt([(role: "user", content: "把这句话翻译成英文\n\n我喜欢猫 🐱")]), maxTokens: 10)]) {
            direct = $0.text
        }
        #expect(r[1].generateOutput == direct)
        // Exactly the four seed keys on every line.
        let first = try #require(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").first)
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any]).keys.sorted()
        #expect(keys == ["generate_output", "input", "instruction", "reference_output"])
        // In seed 000's order, not sorted.
        #expect(first.hasPrefix(#"{"instruction":"#) && first.contains(#""reference_output":"#) && first.hasSuffix("\"}"))
        #expect(try #require(first.range(of: "\"reference_output\"")).lowerBound < #require(first.range(of: "\"generate_output\"")).lowerBound)
    }

    /// Greedy answers do not depend on the batch size or on being interrupted and resumed.
    @Test func batchSizeAndResumeDoNotChangeAnswers() async throws {
        let one = dir + "/one.jsonl", many = dir + "/many.jsonl"
        #expect(await generate(one, ["--batch", "1"]) == 0)
        #expect(await generate(many, ["--batch", "4"]) == 0)
        #expect(try records(one) == records(many))
        // Cut after two items plus a torn third line, then resume.
        let lines = try String(contentsOfFile: one, encoding: .utf8).split(separator: "\n")
        let resumed = dir + "/resumed.jsonl"
        try (lines[0] + "\n" + lines[1] + "\n" + lines[2].prefix(15)).write(toFile: resumed, atomically: true, encoding: .utf8)
        #expect(await generate(resumed, ["--batch", "2"]) == 0)
        #expect(try records(resumed) == records(one))
        // Nothing left to do: the file is unchanged.
        let before = try Data(contentsOf: URL(fileURLWithPath: resumed))
        #expect(await generate(resumed) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: resumed)) == before)
    }

    @Test func sampledRunsAreReproducibleBySeed() async throws {
        let a = dir + "/a.jsonl", b = dir + "/b.jsonl", c = dir + "/c.jsonl"
        let sampling = ["--temperature", "1.0", "--top-p", "0.95", "--top-k", "50", "--min-p", "0.01"]
        #expect(await generate(a, sampling + ["--seed", "7", "--batch", "2"]) == 0)
        #expect(await generate(b, sampling + ["--seed", "7", "--batch", "5"]) == 0)
        #expect(await generate(c, sampling + ["--seed", "8"]) == 0)
        #expect(try records(a) == records(b))
        #expect(try records(a).map(\.generateOutput) != records(c).map(\.generateOutput))
    }

    @Test func anOutputFromAnotherTestSetIsRefused() async throws {
        let out = dir + "/other.jsonl"
        let foreign = GenerationRecord(instruction: "something else", input: "", referenceOutput: "", generateOutput: "x")
        try (String(decoding: try JSONLines.encoder.encode(foreign), as: UTF8.self) + "\n").write(toFile: out, atomically: true, encoding: .utf8)
        #expect(await generate(out) == 1)
    }

    @Test func badArgumentsAreUsageErrors() async {
        #expect(await DistillCLI.main(["generate", "--out", "x.jsonl"]) == 64)
        #expect(await DistillCLI.main(["generate", "--data", "d", "--out", "o", "--top-p", "2"]) == 64)
        #expect(await DistillCLI.main(["generate", "--data", "d", "--out", "o", "--batch", "0"]) == 64)
        #expect(await DistillCLI.main(["generate", "--data", dir + "/missing.jsonl", "--out", dir + "/o.jsonl"]) == 1)
    }
}
