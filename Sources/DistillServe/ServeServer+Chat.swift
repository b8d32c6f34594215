import DistillData
import DistillHTTP
import DistillML
import DistillOpenAI
import Foundation

/// One chat call turned into engine requests: its choices share the prompt (and so the prefix cache).
struct ChatJob {
    let served: ServedModel
    let request: ChatRequest
    let prompt: [Int]
    let requests: [GenerationRequest]
    /// The constraint of each choice (response_format json), by request id.
    let constraints: [Int: JSONConstraint]
    let id: String
    let created: Int
}

extension ServeServer {
    func chatCompletions(_ body: [UInt8]) async -> HTTPServerResponse {
        let job: ChatJob
        do {
            job = try chatJob(try ChatRequest(serverBody: body))
        } catch {
            return Self.failure(error)
        }
        if job.request.stream == true { return streamChat(job) }
        let (events, continuation) = AsyncStream<ServeEngine.Event>.makeStream()
        guard job.served.engine.submit(job.requests, sink: { continuation.yield($0) }) else {
            return Self.error(Self.queueFull, headers: [("Retry-After", "1")])
        }
        cancelOnHangUp(continuation, job.requests.map(\.id), job.served.engine)
        var results: [Int: GenerationResult] = [:]
        var failure: String?
        var done = 0
        for await event in events {
            switch event {
            case .finished(let r):
                results[r.id] = r
                done += 1
            case .failed(let message):
                failure = failure ?? message
                done += 1
            case .token, .scored: break
            }
            if done >= job.requests.count { continuation.finish() }
        }
        if let failure {
            return Self.error(OpenAIError(status: 500, type: "server_error", message: failure))
        }
        var choices: [ChatChoice] = []
        var completion = 0
        for (index, r) in job.requests.enumerated() {
            guard let result = results[r.id] else { continue }
            completion += result.tokens.count
            metrics.tokens(prompt: index == 0 ? result.promptTokenCount : 0, completion: result.tokens.count,
                           cached: result.cachedPromptTokens)
            let (text, finish) = finalText(result, constraint: job.constraints[r.id])
            choices.append(ChatChoice(index: index, message: ChatMessage(role: "assistant", content: text),
                                      finishReason: finish,
                                      logprobs: job.request.logprobs == true ? tokenLogprobs(result, job.served) : nil))
        }
        recordConstraints(job)
        let response = ChatResponse(id: job.id, model: job.served.name, choices: choices,
                                    usage: ChatUsage(promptTokens: job.prompt.count, completionTokens: completion))
        return Self.json(200, response.serverJSON(created: job.created))
    }

    /// Checks the request against the model and the limits and builds its engine requests.
    func chatJob(_ r: ChatRequest) throws(OpenAIError) -> ChatJob {
        let served = try model(r.model)
        let engine = served.engine
        let n = r.n ?? 1
        guard n <= options.maxN else { throw .invalid("n", "'n' is \(n); this server allows at most \(options.maxN)") }
        guard n <= engine.slots + engine.queueLimit else {
            throw .invalid("n", "'n' is \(n); this server holds at most \(engine.slots + engine.queueLimit) sequences at once (--slots + --queue)")
        }
        if let m = r.maxTokens, m > options.maxTokensLimit {
            throw .invalid("max_tokens", "'max_tokens' is \(m); this server allows at most \(options.maxTokensLimit)")
        }
        var schema: JSONSchemaNode?
        switch r.responseFormat {
        case .jsonObject?: schema = .anyObject
        case .jsonSchema(_, let text, _)?:
            guard let value = try? JSONValue.parse(text) else { throw .invalid("response_format.json_schema.schema", "not JSON") }
            schema = try JSONSchemaNode.compile(value)
        case .text?, nil: break
        }
        if schema != nil, !(r.stop ?? []).isEmpty {
            throw .invalid("stop", "'stop' cannot be combined with a JSON response_format (a stop string could cut the JSON)")
        }
        var messages = r.messages.map { (role: $0.role, content: $0.content) }
        if let format = served.promptFormat, let last = messages.lastIndex(where: { $0.role == "user" }) {
            messages[last].content = format.userTurn(messages[last].content)
        }
        let prompt = engine.model.chatPrompt(messages)
        let room = engine.contextLength - prompt.count
        guard room > 1 else {
            throw OpenAIError(status: 400, type: "invalid_request_error", param: "messages", code: "context_length_exceeded",
                              message: "the prompt is \(prompt.count) tokens; this server's context is \(engine.contextLength)")
        }
        if let m = r.maxTokens, m > room - 1 {
            throw OpenAIError(status: 400, type: "invalid_request_error", param: "max_tokens", code: "context_length_exceeded",
                              message: "prompt (\(prompt.count) tokens) + max_tokens (\(m)) exceed the context of \(engine.contextLength)")
        }
        let maxTokens = min(r.maxTokens ?? min(room - 1, options.maxTokensLimit), room - 1)
        let seq = nextSequence()
        let baseSeed = UInt64(bitPattern: Int64(r.seed ?? seq &* 7919))
        var requests: [GenerationRequest] = []
        var constraints: [Int: JSONConstraint] = [:]
        for i in 0..<n {
            let sampling = SamplingParameters(temperature: Float(r.temperature ?? 1), topK: r.topK ?? 0, topP: Float(r.topP ?? 1),
                                              minP: Float(r.minP ?? 0), seed: baseSeed &+ UInt64(i))
            let id = engine.newID()
            var g = GenerationRequest(id: id, prompt: prompt, maxTokens: maxTokens, stop: r.stop ?? [], sampling: sampling,
                                      topLogprobs: r.logprobs == true ? (r.topLogprobs ?? 0) : 0, streams: r.stream == true)
            if let schema {
                let c = JSONConstraint(schema: schema, trie: served.trie, endTokens: engine.model.endTokens)
                constraints[id] = c
                g.logitsProcessor = c
            }
            requests.append(g)
        }
        return ChatJob(served: served, request: r, prompt: prompt, requests: requests, constraints: constraints,
                       id: "chatcmpl-\(seq)", created: Int(Date().timeIntervalSince1970))
    }

    /// The answer text and OpenAI finish reason; a JSON answer cut by max_tokens gets its closing appended, so it
    /// still parses and matches (finish_reason stays "length").
    func finalText(_ r: GenerationResult, constraint: JSONConstraint?) -> (String, String) {
        let finish = r.finishReason == .length ? "length" : "stop"
        guard let constraint else { return (r.text, finish) }
        return (r.text + constraint.closing, finish)
    }

    func recordConstraints(_ job: ChatJob) {
        for c in job.constraints.values { metrics.constraint(masks: c.masks, microseconds: c.maskMicroseconds) }
    }

    func tokenLogprobs(_ r: GenerationResult, _ served: ServedModel) -> [TokenLogprob] {
        r.tokens.indices.map { i in
            let top = i < r.topLogprobs.count ? r.topLogprobs[i] : []
            return logprob(r.tokens[i], Double(r.tokenLogprobs[i]), top: top, served)
        }
    }

    func logprob(_ id: Int, _ lp: Double, top: [(id: Int, logprob: Float)], _ served: ServedModel) -> TokenLogprob {
        let bytes = served.tokenizer.tokenBytes(id)
        return TokenLogprob(token: String(decoding: bytes, as: UTF8.self), bytes: bytes, logprob: lp,
                            topLogprobs: top.map { alt in
                                let b = served.tokenizer.tokenBytes(alt.id)
                                return .init(token: String(decoding: b, as: UTF8.self), bytes: b, logprob: Double(alt.logprob))
                            })
    }
}
