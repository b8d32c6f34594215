import DistillData
import DistillHTTP
import DistillML
import DistillOpenAI
@testable import DistillServe
import DistillTestSupport
import Foundation
import Synchronization
import Testing

/// `distill serve` over real loopback sockets, on the tiny model: the routes, the OpenAI shapes, the errors.
@Suite(.serialized) struct ServeServerTests {
    @Test func modelsHealthAndMetrics() async throws {
        let h = try ServeHarness()
        let models = try await h.get("/v1/models")
        #expect(models.status == 200)
        #expect(models.json?["data"]?.arrayValue?.first?["id"]?.stringValue == "tiny")
        #expect(models.json?["data"]?.arrayValue?.first?["owned_by"]?.stringValue == "distill")
        #expect(try await h.get("/health").json?["status"]?.stringValue == "ok")
        _ = try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":3,"temperature":0"#))
        let metrics = try await h.get("/metrics").text
        #expect(metrics.contains(#"distill_requests_total{route="/v1/chat/completions",status="200"} 1"#))
        #expect(metrics.contains("distill_completion_tokens_total"))
        #expect(metrics.contains(#"distill_queue_depth{model="tiny"} 0"#))
        #expect(metrics.contains("distill_request_duration_seconds_bucket"))
    }

    @Test func greedyEqualsTheGeneratorAndRepeats() async throws {
        let h = try ServeHarness()
        let body = ServeHarness.chat(#""max_tokens":12,"temperature":0,"n":3"#)
        let a = try await h.post("/v1/chat/completions", body)
        let b = try await h.post("/v1/chat/completions", body)
        #expect(a.status == 200, "\(a.text)")
        let texts = (0..<3).compactMap { a.content($0) }
        #expect(texts.count == 3 && Set(texts).count == 1)  // n greedy choices agree
        #expect(b.content() == a.content())
        // The same prompt through the engine directly (what `distill generate` runs).
        let lm = try LanguageModel(path: h.dir + "/tiny.gguf")
        let prompt = lm.chatPrompt([(role: "user", content: "hello 你好 🧪")])
        var direct = ""
        try lm.generator(slots: 1, capacity: 256).generate([GenerationRequest(id: 0, prompt: prompt, maxTokens: 12)]) { direct = $0.text }
        #expect(a.content() == direct)
        #expect(a.json?["usage"]?["prompt_tokens"]?.intValue == prompt.count)
        #expect(a.json?["choices"]?.arrayValue?[2]["index"]?.intValue == 2)
    }

    @Test func logprobsComeWithTopAlternativesAndBytes() async throws {
        let h = try ServeHarness()
        let r = try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":4,"temperature":0,"logprobs":true,"top_logprobs":3"#))
        let content = try #require(r.json?["choices"]?.arrayValue?[0]["logprobs"]?["content"]?.arrayValue)
        #expect(content.count == r.json?["usage"]?["completion_tokens"]?.intValue)
        for t in content {
            let lp = try #require(t["logprob"]?.doubleValue)
            let top = try #require(t["top_logprobs"]?.arrayValue)
            #expect(top.count == 3 && lp <= 0)
            // Greedy: the chosen token is the most likely one.
            #expect(abs((top[0]["logprob"]?.doubleValue ?? 1) - lp) < 1e-6)
            #expect(t["bytes"]?.arrayValue != nil)
        }
    }

    @Test func streamingCarriesTheSameTextAndUsage() async throws {
        let h = try ServeHarness()
        let whole = try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":10,"temperature":0"#))
        let sse = try await h.post("/v1/chat/completions",
                                   ServeHarness.chat(#""max_tokens":10,"temperature":0,"stream":true,"stream_options":{"include_usage":true}"#))
        #expect(sse.status == 200)
        let events = sse.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        var text = ""
        var usage: JSONValue?
        var finish: String?
        for e in events.dropLast() {
            let json = try JSONValue.parse(String(e.dropFirst("data: ".count)))
            if let u = json["usage"] { usage = u }
            for c in json["choices"]?.arrayValue ?? [] {
                text += c["delta"]?["content"]?.stringValue ?? ""
                if let f = c["finish_reason"]?.stringValue { finish = f }
            }
        }
        #expect(text == whole.content())
        #expect(finish != nil)
        #expect(usage?["completion_tokens"]?.intValue == whole.json?["usage"]?["completion_tokens"]?.intValue)
    }

    @Test func jsonSchemaOutputAlwaysParsesAndMatches() async throws {
        let h = try ServeHarness()
        let schema = #"{"type":"object","properties":{"verdict":{"enum":["pass","fail"]},"score":{"type":"integer","minimum":1,"maximum":10},"why":{"type":"string","maxLength":12},"facts":{"type":"array","items":{"type":"object","properties":{"k":{"type":"boolean"}},"required":["k"]},"maxItems":2}},"required":["verdict","score","why"],"additionalProperties":false}"#
        let node = try JSONSchemaNode.compile(try JSONValue.parse(schema))
        // The tiny model's logits are noise: only the constraint makes this JSON. Sampled, several seeds, and a
        // max_tokens that cuts the value (closed validly, finish_reason length).
        for (seed, maxTokens) in [(1, 120), (2, 120), (3, 6), (4, 1)] {
            let r = try await h.post("/v1/chat/completions", ServeHarness.chat(
                #""max_tokens":\#(maxTokens),"temperature":1,"seed":\#(seed),"response_format":{"type":"json_schema","json_schema":{"name":"v","schema":\#(schema)}}"#))
            #expect(r.status == 200, "\(r.text)")
            let content = try #require(r.content())
            var g = JSONGrammar(node)
            let matches = g.feed(Array(content.utf8)) && g.canFinish
            #expect(matches, "seed \(seed): \(content)")
            let parsed = try JSONValue.parse(content)
            #expect(["pass", "fail"].contains(parsed["verdict"]?.stringValue ?? ""))
            #expect((1...10).contains(parsed["score"]?.intValue ?? 0))
        }
        let obj = try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":40,"seed":5,"response_format":{"type":"json_object"}"#))
        #expect((try? JSONValue.parse(obj.content() ?? ""))?.isObject == true, "\(obj.text)")
    }

    @Test func completionsEchoScoresThePrompt() async throws {
        let h = try ServeHarness()
        let r = try await h.post("/v1/completions", #"{"model":"tiny","prompt":"the cat 猫","max_tokens":0,"echo":true,"logprobs":2}"#)
        #expect(r.status == 200, "\(r.text)")
        let choice = try #require(r.json?["choices"]?.arrayValue?.first)
        #expect(choice["text"]?.stringValue == "the cat 猫")
        let lps = try #require(choice["logprobs"]?["token_logprobs"]?.arrayValue)
        let ids = h.model.tokenizer.encode("the cat 猫", addSpecial: true)
        #expect(lps.count == ids.count && lps.first == .null)
        // Against a whole-sequence forward pass of our own.
        let cache = KVCache(config: h.model.model.config, slots: 1, capacity: 64)
        try h.model.model.forward([LlamaModel.Chunk(slot: 0, tokens: ids)], cache: cache, logits: .all)
        for i in 1..<ids.count {
            let (want, _) = Sampler.logprobs(h.model.model.logits(i - 1), id: ids[i], top: 0)
            #expect(abs((lps[i].doubleValue ?? 1) - Double(want)) < 1e-4)
        }
        let gen = try await h.post("/v1/completions", #"{"model":"tiny","prompt":"the","max_tokens":5,"temperature":0,"logprobs":1}"#)
        #expect(gen.json?["choices"]?.arrayValue?.first?["logprobs"]?["tokens"]?.arrayValue?.count == 5
                || gen.json?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
    }

    @Test func clientMistakesAreFourHundredsNamingTheField() async throws {
        let h = try ServeHarness(apiKey: nil, maxBody: 2000)
        let cases: [(String, String, Int, String?)] = [
            ("/v1/chat/completions", #"{"model":"tiny","messages":[{"role":"wizard","content":"x"}]}"#, 400, "messages[0].role"),
            ("/v1/chat/completions", #"{"model":"tiny","messages":"hi"}"#, 400, "messages"),
            ("/v1/chat/completions", ServeHarness.chat(#""temperature":"hot""#), 400, "temperature"),
            ("/v1/chat/completions", ServeHarness.chat(#""n":99"#), 400, "n"),
            ("/v1/chat/completions", ServeHarness.chat(#""max_tokens":100000"#), 400, "max_tokens"),
            ("/v1/chat/completions", ServeHarness.chat(#""tools":[]"#), 400, "tools"),
            ("/v1/chat/completions", ServeHarness.chat(#""top_logprobs":2"#), 400, "top_logprobs"),
            ("/v1/chat/completions", ServeHarness.chat(#""response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"a+"}}}"#),
             400, "response_format.json_schema.schema.pattern"),
            ("/v1/chat/completions", "{not json", 400, nil),
            ("/v1/chat/completions", #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#, 404, "model"),
            ("/v1/chat/completions", ServeHarness.chat(user: String(repeating: "x", count: 3000)), 413, nil),
            ("/v1/completions", #"{"model":"tiny","prompt":"x","max_tokens":0}"#, 400, "max_tokens"),
            ("/v1/nothing", "{}", 404, nil),
        ]
        for (path, body, status, param) in cases {
            let r = try await h.post(path, body)
            #expect(r.status == status, "\(body.prefix(80)) → \(r.status) \(r.text)")
            #expect(r.json?["error"]?["message"]?.stringValue != nil, "\(r.text)")
            if let param { #expect(r.errorParam == param, "\(r.text)") }
        }
    }

    @Test func apiKeyIsRequiredWhenSet() async throws {
        let h = try ServeHarness(apiKey: "sekret-123")
        #expect(try await h.get("/v1/models").status == 401)
        #expect(try await h.get("/v1/models", headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try await h.get("/v1/models", headers: [("Authorization", "Bearer sekret-123")]).status == 200)
        #expect(try await h.get("/health").status == 200)
    }

    @Test func aFullQueueIsRefused() throws {
        let h = try ServeHarness(slots: 1, queue: 1)
        let engine = try #require(h.server.models["tiny"]?.engine)
        let prompt = h.model.chatPrompt([(role: "user", content: "x")])
        let r = { GenerationRequest(id: engine.newID(), prompt: prompt, maxTokens: 200, sampling: .greedy) }
        let first = engine.submit([r(), r()], sink: { _ in })
        let third = engine.submit([r()], sink: { _ in })
        #expect(first)
        #expect(!third)  // 1 slot + 1 waiting are taken
    }

    @Test func aFullQueueAnswers503WithRetryAfter() async throws {
        let h = try ServeHarness(slots: 1, queue: 1)
        // More choices than the server can ever hold at once is the client's mistake, not a reason to retry.
        let tooMany = try await h.post("/v1/chat/completions", ServeHarness.chat(#""n":3"#))
        #expect(tooMany.status == 400 && tooMany.errorParam == "n")
        let engine = try #require(h.server.models["tiny"]?.engine)
        let prompt = h.model.chatPrompt([(role: "user", content: "x")])
        // Two streaming requests fill the slot and the queue; the first token's sink holds the engine thread until
        // the HTTP request has been answered, so they cannot finish in between.
        let release = DispatchSemaphore(value: 0)
        let held = Mutex(false)
        let r = { GenerationRequest(id: engine.newID(), prompt: prompt, maxTokens: 50, streams: true) }
        let stuffed = engine.submit([r(), r()]) { event in
            if case .token = event, held.withLock({ h in defer { h = true }; return !h }) { _ = release.wait(timeout: .now() + 10) }
        }
        #expect(stuffed)
        let reply = try await h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":2"#))
        release.signal()
        #expect(reply.status == 503)
        #expect(reply.json?["error"]?["code"]?.stringValue == "queue_full")
        #expect(reply.headers.contains { $0.name.lowercased() == "retry-after" && $0.value == "1" })
    }

    @Test func aFailureAfterTheStreamStartedIsAnErrorEvent() async throws {
        let h = try ServeHarness(slots: 2, queue: 2)
        let engine = try #require(h.server.models["tiny"]?.engine)
        let prompt = h.model.chatPrompt([(role: "user", content: "x")])
        // A request whose first token holds the engine thread, so the streamed one is still in flight when the engine
        // is stopped under it.
        let release = DispatchSemaphore(value: 0)
        let held = Mutex(false)
        let stuffed = engine.submit([GenerationRequest(id: engine.newID(), prompt: prompt, maxTokens: 50, streams: true)]) { event in
            if case .token = event, held.withLock({ h in defer { h = true }; return !h }) { _ = release.wait(timeout: .now() + 10) }
        }
        #expect(stuffed)
        async let reply = h.post("/v1/chat/completions", ServeHarness.chat(#""max_tokens":100,"stream":true"#))
        let deadline = ContinuousClock.now + .seconds(20)
        while engine.inFlight < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        Thread { engine.stop(within: .zero) }.start()
        try await Task.sleep(for: .milliseconds(50))
        release.signal()
        let r = try await reply
        #expect(r.status == 200)
        let events = r.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        let error = try JSONValue.parse(String(events[events.count - 2].dropFirst("data: ".count)))
        #expect(error["error"]?["message"]?.stringValue?.contains("shutting down") == true, "\(r.text)")
    }
}
