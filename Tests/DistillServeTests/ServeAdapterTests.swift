import DistillData
import DistillHTTP
import DistillML
@testable import DistillServe
import DistillTestSupport
import Foundation
import Testing

/// `distill serve --adapter NAME=DIR`: several LoRA adapters served unmerged over one base, on a real loopback server.
@Suite struct ServeAdapterTests {
    @Test func twoAdaptersOverOneBaseAnswerDifferently() async throws {
        let dir = NSTemporaryDirectory() + "serve-adapters-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf", type: .q4_1)
        try TinyAdapter.write(to: dir + "/a", seed: 11, alpha: 32)
        try TinyAdapter.write(to: dir + "/b", seed: 12, alpha: 32)
        let base = try LanguageModel(path: dir + "/tiny.gguf")
        let withA = try base.sharingBase(adapter: dir + "/a"), withB = try base.sharingBase(adapter: dir + "/b")
        // One base in memory: the adapters' models hold the base's own 4-bit matrices, no copy.
        #expect(withA.model.quantized === base.model.quantized && withB.model.quantized === base.model.quantized)
        var options = ServeOptions()
        options.port = 0
        let server = try ServeServer(models: [ServedModel(name: "base", model: base, slots: 2, queue: 4, context: 256),
                                              ServedModel(name: "tutor", model: withA, slots: 2, queue: 4, context: 256),
                                              ServedModel(name: "critic", model: withB, slots: 2, queue: 4, context: 256)],
                                     options: options)
        defer { server.shutdown(within: .seconds(1)) }
        let client = try HTTPClient()
        var answers: [String: String] = [:]
        for name in ["base", "tutor", "critic"] {
            let body = #"{"model":"\#(name)","messages":[{"role":"user","content":"hello 你好 🧪"}],"max_tokens":12,"temperature":0}"#
            let r = try await client.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/v1/chat/completions",
                                                      headers: [("Content-Type", "application/json")], body: Array(body.utf8)))
            #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
            let json = try JSONValue.parse(Data(r.body))
            answers[name] = json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
            #expect(json["model"]?.stringValue == name)
        }
        print("served over one base: \(answers.sorted { $0.key < $1.key })")
        #expect(answers.count == 3 && Set(answers.values).count == 3, "\(answers)")
        // The served text of an adapter is what generate runs with the same adapter.
        let direct = try LanguageModel(path: dir + "/tiny.gguf", adapter: dir + "/a")
        var text = ""
        try direct.generator(slots: 1, capacity: 256).generate(
            [GenerationRequest(id: 0, prompt: direct.chatPrompt([(role: "user", content: "hello 你好 🧪")]), maxTokens: 12)]) { text = $0.text }
        #expect(answers["tutor"] == text)
    }
}
