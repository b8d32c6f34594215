import DistillData
import DistillHTTP
import DistillML
import DistillServe
@testable import DistillClient
@testable import DistillHarvest
import DistillTestSupport
import Foundation
import Testing

/// Harvest against a real `distill serve` (the tiny model, in process): the endpoint is recognised by /v1/models,
/// and generate-data's and self-instruct's json_schema requests come back as JSON their parsers read, even from a
/// model that knows nothing of JSON (constrained decoding). Another server is not taken for distill serve.
@Suite(.serialized) struct HarvestStructuredTests {
    @Test func distillServeIsRecognisedAndItsRepliesParse() async throws {
        let dir = NSTemporaryDirectory() + "harvest-structured-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        var options = ServeOptions()
        options.port = 0
        let server = try ServeServer(models: [ServedModel(name: "tiny", model: try LanguageModel(path: dir + "/tiny.gguf"),
                                                          slots: 2, queue: 8, context: 256)], options: options)
        defer { server.shutdown(within: .seconds(1)) }
        let base = "http://127.0.0.1:\(server.port)/v1"
        let http = try HTTPClient()
        let client = OpenAIClient(endpoint: Endpoint(baseURL: base, model: "tiny"), http: http)
        #expect(await client.servesJSONSchema())
        #expect(await !OpenAIClient(endpoint: Endpoint(baseURL: base, model: "other"), http: http).servesJSONSchema())
        #expect(await !OpenAIClient(endpoint: Endpoint(baseURL: "http://127.0.0.1:9/v1", model: "tiny"), http: http).servesJSONSchema())
        // A server listing the same model name, owned by someone else (vLLM, llama.cpp, OpenAI): not distill serve.
        let other = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")],
                               text: #"{"object":"list","data":[{"id":"tiny","object":"model","owned_by":"llamacpp"}]}"#)
        }
        defer { other.stop() }
        #expect(await !OpenAIClient(endpoint: Endpoint(baseURL: "http://127.0.0.1:\(other.port)/v1", model: "tiny"), http: http).servesJSONSchema())

        var generation = HarvestGeneration(model: "tiny", temperature: 1, maxTokens: 60, seed: 5)
        generation.structured = true
        for seed in 0..<3 {
            let data = generation.request("Write 2 samples", sample: seed, responseFormat: GenerateDataRecipe.responseFormat(2))
            let reply = try await client.complete(data).choices.first?.message.content ?? ""
            let object = try JSONValue.parse(reply)
            #expect(object["samples"]?.arrayValue != nil, "\(reply)")
            let samples = GenerateDataRecipe.parse(reply)
            #expect(!samples.isEmpty && samples.count <= 2, "\(reply)")
            #expect(!samples.contains { if case .failure(let r) = $0 { "\(r)".contains("JSON") } else { false } }, "\(reply)")

            let tasks = generation.request("Write 3 tasks", sample: seed, responseFormat: SelfInstructRecipe.responseFormat(3))
            let listed = try await client.complete(tasks).choices.first?.message.content ?? ""
            #expect(try JSONValue.parse(listed)["instructions"]?.arrayValue != nil, "\(listed)")
            let candidates = SelfInstructRecipe.parseCandidates(listed)
            #expect((1...3).contains(candidates.count), "\(listed)")
        }
    }
}
