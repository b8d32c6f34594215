import DistillData
import DistillHTTP
import DistillML
import DistillOpenAI
@testable import DistillServe
import DistillTestSupport
import Foundation

/// A real `ServeServer` on a loopback socket serving the tiny test model, and a client to talk to it.
final class ServeHarness: @unchecked Sendable {
    let server: ServeServer
    let model: LanguageModel
    let client: HTTPClient
    let dir: String

    init(slots: Int = 4, queue: Int = 16, apiKey: String? = nil, maxBody: Int = 1 << 20) throws {
        dir = NSTemporaryDirectory() + "serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        model = try LanguageModel(path: dir + "/tiny.gguf")
        var options = ServeOptions()
        options.port = 0
        options.apiKey = apiKey
        options.maxBodyBytes = maxBody
        options.maxTokensLimit = 200
        options.maxN = 8
        server = try ServeServer(models: [ServedModel(name: "tiny", model: model, slots: slots, queue: queue, context: 256)],
                                 options: options)
        client = try HTTPClient()
    }

    deinit {
        server.shutdown(within: .seconds(1))
        try? FileManager.default.removeItem(atPath: dir)
    }

    var base: String { "http://127.0.0.1:\(server.port)" }

    func post(_ path: String, _ json: String, headers: [(name: String, value: String)] = []) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(method: "POST", url: base + path,
                                          headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8)))
    }

    func get(_ path: String, headers: [(name: String, value: String)] = []) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(method: "GET", url: base + path, headers: headers))
    }

    /// A chat body for the tiny model.
    static func chat(_ extra: String = "", user: String = "hello 你好 🧪") -> String {
        #"{"model":"tiny","messages":[{"role":"user","content":"\#(user)"}]\#(extra.isEmpty ? "" : "," + extra)}"#
    }
}

extension HTTPResponse {
    var json: JSONValue? { try? JSONValue.parse(Data(body)) }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The `choices[i].message.content` of a chat reply.
    func content(_ i: Int = 0) -> String? { json?["choices"]?.arrayValue?[i]["message"]?["content"]?.stringValue }
    var errorParam: String? { json?["error"]?["param"]?.stringValue }
}
