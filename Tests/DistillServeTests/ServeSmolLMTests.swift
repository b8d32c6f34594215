import DistillData
import DistillHTTP
import DistillML
import DistillOpenAI
@testable import DistillServe
import Foundation
import Testing

/// The real model through the server: greedy replies equal the engine's own (what `distill generate` runs), and a
/// schema-constrained reply on a real tokenizer parses, with the mask cost measured. Skipped without the cached GGUF.
@Suite(.serialized) struct ServeSmolLMTests {
    /// The cache `distill models pull` fills (ModelStore's directory: $DISTILL_MODEL_DIR, else ~/.cache/distill/models).
    static let gguf = (ProcessInfo.processInfo.environment["DISTILL_MODEL_DIR"] ?? NSHomeDirectory() + "/.cache/distill/models")
        + "/SmolLM2-135M-Instruct.Q4_1.gguf"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: gguf), "needs the cached SmolLM2 GGUF"))
    func greedyEqualsGenerateAndSchemaHolds() async throws {
        let lm = try LanguageModel(path: Self.gguf)
        var options = ServeOptions()
        options.port = 0
        let served = ServedModel(name: "smol", model: lm, slots: 4, queue: 4, context: 512)
        let server = try ServeServer(models: [served], options: options)
        defer { server.shutdown(within: .seconds(1)) }
        let client = try HTTPClient()
        let question = "What is the capital of France? 用一句话回答。"
        let body = #"{"model":"smol","temperature":0,"max_tokens":24,"messages":[{"role":"user","content":"\#(question)"}]}"#
        let r = try await client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/v1/chat/completions",
                                                  body: Array(body.utf8)))
        let served1 = try JSONValue.parse(Data(r.body))["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
        // The same prompt the way `distill generate` builds it, on a generator of its own.
        let own = try LanguageModel(path: Self.gguf)
        var direct = ""
        try own.generator(slots: 1, capacity: 512).generate(
            [GenerationRequest(id: 0, prompt: own.chatPrompt([(role: "user", content: question)]), maxTokens: 24)]) { direct = $0.text }
        #expect(served1 == direct)
        #expect(!direct.isEmpty)

        let schema = #"{"type":"object","properties":{"city":{"type":"string","maxLength":30},"population":{"type":"integer","minimum":1,"maximum":100000000},"country":{"enum":["France","Germany"]}},"required":["city","population","country"],"additionalProperties":false}"#
        let jbody = #"{"model":"smol","temperature":0,"max_tokens":60,"messages":[{"role":"user","content":"Capital of France as JSON."}],"response_format":{"type":"json_schema","json_schema":{"name":"c","schema":\#(schema)}}}"#
        let j = try await client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/v1/chat/completions",
                                                  body: Array(jbody.utf8)))
        let text = try #require(try JSONValue.parse(Data(j.body))["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue)
        let parsed = try JSONValue.parse(text)
        #expect(["France", "Germany"].contains(parsed["country"]?.stringValue ?? ""), "\(text)")
        #expect((1...100_000_000).contains(parsed["population"]?.intValue ?? 0), "\(text)")
        let micros = try #require(server.metrics.meanMaskMicroseconds)
        print("constrained decoding on SmolLM2 (\(served.trie.vocabularySize) tokens, \(served.trie.nodeCount) trie nodes): "
              + String(format: "%.0f µs per mask", micros) + " — \(text)")
    }
}
