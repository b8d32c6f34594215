import DistillData
import DistillHTTP
import DistillML
import DistillServe
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// A multitask-trained student is asked the way it was trained: `generate` and `serve` find the `prompt-format.json`
/// that `distill train --loss multitask` wrote beside the model and put its answer prefix before the question
/// (`--no-prompt-format` turns that off).
@Suite struct PromptFormatTests {
    let dir: String
    static let prefix = "[答] "

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-prompt-format-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let cot = (0..<8).map { i in
            #"{"id": "q\#(i)", "question": "Which is bigger, \#(i) or \#(i + 1)?", "rationale": "\#(i + 1) comes after \#(i) 好", "answer": "B"}"#
        }
        try (cot.joined(separator: "\n") + "\n").write(toFile: dir + "/cot.jsonl", atomically: true, encoding: .utf8)
        try (#"{"instruction": "Which is bigger, 3 or 7? 🙂", "input": "", "output": "7"}"# + "\n")
            .write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
    }

    /// Trains the tiny model with --loss multitask into DIR/mt (model-f32.gguf and prompt-format.json).
    func trainMultitask() async throws -> String {
        let code = await DistillCLI.main(["train", "--model", dir + "/tiny.gguf", "--data", dir + "/cot.jsonl", "--out", dir + "/mt",
                                          "--loss", "multitask", "--answer-prefix", Self.prefix, "--epochs", "1", "--batch", "4",
                                          "--max-seq", "128", "--full", "--lr", "1e-3", "--val-split", "0", "--threads", "1",
                                          "--export", "gguf-f32"])
        try #require(code == 0)
        return dir + "/mt/model-f32.gguf"
    }

    /// The engine's own greedy continuation of one user turn.
    func greedy(_ lm: LanguageModel, _ user: String) throws -> String {
        var text = ""
        try lm.generator(slots: 1, capacity: 256).generate(
            [GenerationRequest(id: 0, prompt: lm.chatPrompt([(role: "user", content: user)]), maxTokens: 12)]) { text = $0.text }
        return text
    }

    func output(_ path: String) throws -> String {
        let line = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first)
        return try JSONDecoder().decode(GenerationRecord.self, from: Data(line.utf8)).generateOutput
    }

    @Test func generateAsksTheMultitaskStudentWithItsAnswerPrefix() async throws {
        let model = try await trainMultitask()
        let format = try #require(try PromptFormat.find(model: model, adapter: nil))
        #expect(format.answerPrefix == Self.prefix && format.objective == "multitask")

        let question = "Which is bigger, 3 or 7? 🙂"
        let lm = try LanguageModel(path: model, precision: .exact)
        let withPrefix = try greedy(lm, Self.prefix + question), bare = try greedy(lm, question)
        #expect(withPrefix != bare, "the two prompts should lead the trained model to different answers")

        let args = ["generate", "--model", model, "--data", dir + "/test.jsonl", "--max-tokens", "12", "--exact", "--threads", "1"]
        #expect(await DistillCLI.main(args + ["--out", dir + "/gen/on.jsonl"]) == 0)
        #expect(try output(dir + "/gen/on.jsonl") == withPrefix)
        let manifest = try String(contentsOfFile: dir + "/gen/on.manifest.json", encoding: .utf8)
        #expect(manifest.contains(#"answer prefix \"[答] \""#), "\(manifest)")

        #expect(await DistillCLI.main(args + ["--out", dir + "/gen/off.jsonl", "--no-prompt-format"]) == 0)
        #expect(try output(dir + "/gen/off.jsonl") == bare)
        // Resuming the prefixed file without the prefix would mix two prompt formats: refused.
        #expect(await DistillCLI.main(args + ["--out", dir + "/gen/on.jsonl", "--no-prompt-format"]) == 1)

        // The plain model has no prompt format: nothing is applied.
        #expect(try PromptFormat.find(model: dir + "/tiny.gguf", adapter: nil) == nil)
        #expect(GenerateCommand.userTurn(try JSONDecoder().decode(GenerateCommand.TestItem.self, from: Data(#"{"instruction":"q","input":"x"}"#.utf8)),
                                         format: format) == Self.prefix + "q\n\nx")
    }

    @Test func serveAddsThePrefixToTheLastUserMessage() async throws {
        let model = try await trainMultitask()
        let lm = try LanguageModel(path: model, precision: .exact)
        let format = try PromptFormat.find(model: model, adapter: nil)
        var options = ServeOptions()
        options.port = 0
        let server = try ServeServer(models: [ServedModel(name: "mt", model: lm, slots: 1, queue: 4, context: 256, promptFormat: format),
                                              ServedModel(name: "plain", model: lm, slots: 1, queue: 4, context: 256)], options: options)
        defer { server.shutdown(within: .seconds(1)) }
        let client = try HTTPClient()
        let question = "Which is bigger, 3 or 7? 🙂"
        for (name, user) in [("mt", Self.prefix + question), ("plain", question)] {
            let body = #"{"model":"\#(name)","max_tokens":12,"temperature":0,"messages":[{"role":"user","content":"\#(question)"}]}"#
            let r = try await client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/v1/chat/completions",
                                                      headers: [("Content-Type", "application/json")], body: Array(body.utf8)))
            let json = try #require(try? JSONValue.parse(Data(r.body)))
            #expect(json["usage"]?["prompt_tokens"]?.intValue == lm.chatPrompt([(role: "user", content: user)]).count, "\(name)")
            #expect(json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == (try greedy(lm, user)), "\(name)")
        }
    }

    @Test func aBrokenPromptFormatFileIsNamed() throws {
        try FileManager.default.createDirectory(atPath: dir + "/bad", withIntermediateDirectories: true)
        try Data("[1, 2".utf8).write(to: URL(fileURLWithPath: dir + "/bad/prompt-format.json"))
        let error = #expect(throws: DataError.self) { try PromptFormat.find(model: dir + "/bad/model.gguf", adapter: nil) }
        #expect(error?.file.hasSuffix("bad/prompt-format.json") == true)
        // An icl run's file has no answer prefix: nothing to apply.
        try Data(#"{"objective":"icl","demonstrations":"k-shot prompt as harvested"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/bad/prompt-format.json"))
        #expect(try PromptFormat.find(model: dir + "/bad/model.gguf", adapter: nil) == nil)
    }
}
