import DistillHTTP
@testable import DistillClient
import DistillTestSupport
import Foundation
import Testing

/// The OpenAI-compatible client over loopback, checked against fixtures made by the official openai SDK
/// (`scripts/fixtures/openai_wire.py`).
@Suite struct OpenAIClientTests {
    static func fixture(_ name: String) throws -> Data {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/teacher-wire/\(name)")
        return try Data(contentsOf: url)
    }

    static func json(_ data: Data) -> NSDictionary? {
        (try? JSONSerialization.jsonObject(with: data)) as? NSDictionary
    }

    /// The request the SDK fixture was made from.
    static let everyField = ChatRequest(
        model: "gpt-4o-mini", messages: [.system("你是老师。"), .user("Why is the sky blue? 🌌")],
        temperature: 0.7, topP: 0.9, maxTokens: 64, n: 2, stop: ["\n\n", "END"], seed: 42, logprobs: true,
        topLogprobs: 2, responseFormat: .jsonSchema(
            name: "answer",
            schemaJSON: #"{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}"#,
            strict: true))

    @Test func requestBodyMatchesWhatTheOpenAISDKSends() async throws {
        let standIn = try TeacherStandIn { _ in .chat("ok") }
        defer { standIn.stop() }
        let client = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "gpt-4o-mini"), http: try HTTPClient())
        _ = try await client.complete(Self.everyField)
        let sent = try #require(standIn.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.path == "/v1/chat/completions")
        #expect(sent.header("content-type") == "application/json")
        #expect(Self.json(sent.body) == Self.json(try Self.fixture("request.json")))
    }

    @Test func jsonObjectFormatAndDefaultsAreEncoded() throws {
        let r = ChatRequest(model: "", messages: [.user("x")], responseFormat: .jsonObject)
        let body = try #require(Self.json(Data(try ChatWire.encode(r))))
        #expect((body["response_format"] as? NSDictionary) == ["type": "json_object"])
        #expect(body["temperature"] == nil && body["max_tokens"] == nil && body["logprobs"] == nil)
    }

    @Test func responseDecodesLikeTheSDKParsesIt() throws {
        let ours = try ChatWire.decode(Array(try Self.fixture("response.json")))
        let sdk = try #require(Self.json(try Self.fixture("response_parsed.json")))
        let sdkChoices = try #require(sdk["choices"] as? [NSDictionary])
        #expect(ours.id == sdk["id"] as? String)
        #expect(ours.model == sdk["model"] as? String)
        #expect(ours.choices.count == sdkChoices.count)
        for (mine, theirs) in zip(ours.choices, sdkChoices) {
            #expect(mine.index == theirs["index"] as? Int)
            #expect(mine.finishReason == theirs["finish_reason"] as? String)
            #expect(mine.message.content == (theirs["message"] as? NSDictionary)?["content"] as? String)
            let theirTokens = ((theirs["logprobs"] as? NSDictionary)?["content"] as? [NSDictionary]) ?? []
            #expect((mine.logprobs ?? []).count == theirTokens.count)
            for (t, s) in zip(mine.logprobs ?? [], theirTokens) {
                #expect(t.token == s["token"] as? String)
                #expect(t.bytes == s["bytes"] as? [UInt8])
                #expect(t.logprob == s["logprob"] as? Double)
                let alts = s["top_logprobs"] as? [NSDictionary] ?? []
                #expect(t.topLogprobs.map(\.token) == alts.compactMap { $0["token"] as? String })
                #expect(t.topLogprobs.map(\.logprob) == alts.compactMap { $0["logprob"] as? Double })
            }
        }
        let usage = try #require(sdk["usage"] as? NSDictionary)
        #expect(ours.usage?.promptTokens == usage["prompt_tokens"] as? Int)
        #expect(ours.usage?.completionTokens == usage["completion_tokens"] as? Int)
        #expect(ours.usage?.totalTokens == usage["total_tokens"] as? Int)
    }

    @Test func providerErrorBodyIsDecoded() async throws {
        let standIn = try TeacherStandIn { _ in
            .error(status: 400, type: "invalid_request_error", code: "context_length_exceeded",
                   message: "This model's maximum context length is 8192 tokens.")
        }
        defer { standIn.stop() }
        let client = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "m"), http: try HTTPClient())
        do {
            _ = try await client.complete(ChatRequest(model: "", messages: [.user("长文")]))
            Issue.record("expected an error")
        } catch let e as TeacherError {
            #expect(e.kind == .http(status: 400))
            #expect(e.providerType == "invalid_request_error")
            #expect(e.providerCode == "context_length_exceeded")
            #expect(e.message == "This model's maximum context length is 8192 tokens.")
        }
    }

    @Test func zhipuStyleNumericCodeAndPlainTextErrorsAreDecoded() {
        let zhipu = ChatWire.providerError(Array(#"{"error":{"code":1302,"message":"您当前使用该API的并发数过高"}}"#.utf8))
        #expect(zhipu.code == "1302")
        #expect(zhipu.message == "您当前使用该API的并发数过高")
        let plain = ChatWire.providerError(Array("upstream connect error".utf8))
        #expect(plain.message == "upstream connect error")
    }

    @Test func invalidJSONWith200IsAnInvalidResponse() async throws {
        let standIn = try TeacherStandIn { _ in .raw(status: 200, body: Data("{\"choices\": [trunc".utf8)) }
        defer { standIn.stop() }
        let client = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "m"), http: try HTTPClient())
        await #expect { try await client.complete(ChatRequest(model: "", messages: [.user("q")])) } throws: { error in
            (error as? TeacherError)?.kind == .invalidResponse
        }
    }

    @Test func emptyModelIsFilledFromTheEndpointAndKeyIsSentAsBearer() async throws {
        let standIn = try TeacherStandIn { _ in .chat("ok") }
        defer { standIn.stop() }
        let client = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "glm-4-flash", keyEnv: "TEST_KEY"),
                                  http: try HTTPClient(), environment: ["TEST_KEY": "k-123"])
        let r = try await client.complete(ChatRequest(model: "", messages: [.user("你好")]))
        #expect(r.choices.first?.message.content == "ok")
        let sent = try #require(standIn.requests.first)
        #expect(sent.json?["model"] as? String == "glm-4-flash")
        #expect(sent.header("authorization") == "Bearer k-123")
    }

    @Test func missingKeyVariableIsAClearError() async throws {
        let client = OpenAIClient(endpoint: .deepSeek(), http: try HTTPClient(), environment: [:])
        await #expect { try await client.complete(ChatRequest(model: "", messages: [.user("q")])) } throws: { error in
            (error as? TeacherError)?.kind == .missingKey(env: "DEEPSEEK_API_KEY")
                && "\(error)".contains("DEEPSEEK_API_KEY")
        }
    }

    @Test func presetsPointAtTheDocumentedBaseURLs() {
        #expect(Endpoint.openAI().chatCompletionsURL == "https://api.openai.com/v1/chat/completions")
        #expect(Endpoint.zhipuGLM().chatCompletionsURL == "https://open.bigmodel.cn/api/paas/v4/chat/completions")
        #expect(Endpoint.dashScope().baseURL == "https://dashscope.aliyuncs.com/compatible-mode/v1")
        #expect(Endpoint.ollama(model: "qwen2").baseURL == "http://127.0.0.1:11434/v1")
        #expect(Endpoint.presetNames.allSatisfy { Endpoint.preset(named: $0, model: nil) != nil })
        #expect(Endpoint(baseURL: "http://h/v1/", model: "m").chatCompletionsURL == "http://h/v1/chat/completions")
    }
}

/// The hand-written request encoder against Foundation's parser, on the strings that break naive escaping.
@Suite struct JSONWriterTests {
    @Test func trickyStringsRoundTrip() throws {
        let nasty = ["quote \" backslash \\ slash /", "line\nfeed\r\ttab", "\u{0}\u{1}\u{1f}control", "蒸馏 🧪 العربية 👩‍👩‍👧", ""]
        let r = ChatRequest(model: "m\"x", messages: nasty.map { .user($0) }, temperature: 1e-5, topP: 1, stop: nasty)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(try ChatWire.encode(r))) as? [String: Any])
        #expect(parsed["model"] as? String == "m\"x")
        #expect((parsed["messages"] as? [[String: Any]])?.compactMap { $0["content"] as? String } == nasty)
        #expect(parsed["stop"] as? [String] == nasty)
        #expect(parsed["temperature"] as? Double == 1e-5)
        #expect(parsed["top_p"] as? Double == 1)
    }

    @Test func invalidSchemaIsRejectedBeforeSending() {
        let r = ChatRequest(model: "m", messages: [.user("x")], responseFormat: .jsonSchema(name: "s", schemaJSON: "{not json", strict: true))
        #expect(throws: TeacherError.self) { try ChatWire.encode(r) }
    }
}
