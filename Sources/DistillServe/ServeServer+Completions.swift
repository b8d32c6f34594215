import DistillData
import DistillHTTP
import DistillML
import DistillOpenAI
import Foundation

extension ServeServer {
    /// `POST /v1/completions`: continue raw text (no chat template); with `echo` and `logprobs`, the prompt's own
    /// tokens come back with their log-probabilities (scoring: perplexity, a teacher's view of given text).
    func completions(_ body: [UInt8]) async -> HTTPServerResponse {
        let r: CompletionRequest
        let served: ServedModel
        do {
            r = try CompletionRequest(serverBody: body)
            served = try model(r.model)
            guard r.n <= options.maxN, r.n <= served.engine.slots + served.engine.queueLimit else {
                throw OpenAIError.invalid("n", "'n' is \(r.n); this server allows at most \(min(options.maxN, served.engine.slots + served.engine.queueLimit))")
            }
            guard r.maxTokens <= options.maxTokensLimit else {
                throw OpenAIError.invalid("max_tokens", "'max_tokens' is \(r.maxTokens); this server allows at most \(options.maxTokensLimit)")
            }
        } catch {
            return Self.failure(error)
        }
        let engine = served.engine
        let prompt = served.tokenizer.encode(r.prompt, addSpecial: true)
        guard !prompt.isEmpty else { return Self.error(.invalid("prompt", "'prompt' is empty")) }
        guard prompt.count + r.maxTokens < engine.contextLength else {
            return Self.error(OpenAIError(status: 400, type: "invalid_request_error", param: "max_tokens", code: "context_length_exceeded",
                message: "prompt (\(prompt.count) tokens) + max_tokens (\(r.maxTokens)) exceed the context of \(engine.contextLength)"))
        }
        let top = r.logprobs ?? 0
        // Scoring the prompt (echo + logprobs) runs as one engine job between generation steps.
        var scored: [(logprob: Float, top: [(id: Int, logprob: Float)])] = []
        if r.echo && r.logprobs != nil {
            let (events, continuation) = AsyncStream<ServeEngine.Event>.makeStream()
            guard engine.score(prompt, top: top, sink: { continuation.yield($0); continuation.finish() }) else {
                return Self.error(Self.queueFull, headers: [("Retry-After", "1")])
            }
            for await event in events {
                if case .scored(let s) = event { scored = s }
                if case .failed(let m) = event { return Self.error(OpenAIError(status: 500, type: "server_error", message: m)) }
            }
        }
        var results: [GenerationResult] = []
        if r.maxTokens > 0 {
            let seq = nextSequence()
            let baseSeed = UInt64(bitPattern: Int64(r.seed ?? seq &* 7919))
            let requests = (0..<r.n).map { i in
                GenerationRequest(id: engine.newID(), prompt: prompt, maxTokens: r.maxTokens, stop: r.stop ?? [],
                                  sampling: SamplingParameters(temperature: Float(r.temperature ?? 1), topK: r.topK ?? 0,
                                                               topP: Float(r.topP ?? 1), minP: Float(r.minP ?? 0),
                                                               seed: baseSeed &+ UInt64(i)),
                                  topLogprobs: top)
            }
            let (events, continuation) = AsyncStream<ServeEngine.Event>.makeStream()
            guard engine.submit(requests, sink: { continuation.yield($0) }) else {
                return Self.error(Self.queueFull, headers: [("Retry-After", "1")])
            }
            cancelOnHangUp(continuation, requests.map(\.id), engine)
            var byID: [Int: GenerationResult] = [:]
            var failure: String?
            var done = 0
            for await event in events {
                switch event {
                case .finished(let g): byID[g.id] = g; done += 1
                case .failed(let m): failure = failure ?? m; done += 1
                default: break
                }
                if done >= requests.count { continuation.finish() }
            }
            if let failure { return Self.error(OpenAIError(status: 500, type: "server_error", message: failure)) }
            results = requests.compactMap { byID[$0.id] }
        }
        let choices = (0..<r.n).map { i in
            choice(r, served: served, prompt: prompt, scored: scored, result: i < results.count ? results[i] : nil)
        }
        let completion = results.reduce(0) { $0 + $1.tokens.count }
        metrics.tokens(prompt: prompt.count, completion: completion, cached: results.first?.cachedPromptTokens ?? 0)
        return Self.json(200, CompletionResponse.json(
            id: "cmpl-\(nextSequence())", model: served.name, created: Int(Date().timeIntervalSince1970), choices: choices,
            usage: ChatUsage(promptTokens: prompt.count, completionTokens: completion)))
    }

    private func choice(_ r: CompletionRequest, served: ServedModel, prompt: [Int],
                        scored: [(logprob: Float, top: [(id: Int, logprob: Float)])], result: GenerationResult?) -> CompletionChoice {
        let tokenizer = served.tokenizer
        func text(_ id: Int) -> String { String(decoding: tokenizer.tokenBytes(id), as: UTF8.self) }
        func alternatives(_ top: [(id: Int, logprob: Float)]) -> [(token: String, logprob: Double)] {
            top.map { (text($0.id), Double($0.logprob)) }
        }
        var tokens: [String] = [], lps: [Double?] = [], tops: [[(token: String, logprob: Double)]] = []
        if r.echo {
            for (i, id) in prompt.enumerated() {
                tokens.append(text(id))
                // The first token has nothing before it to be predicted from.
                lps.append(i == 0 || i - 1 >= scored.count ? nil : Double(scored[i - 1].logprob))
                tops.append(i == 0 || i - 1 >= scored.count ? [] : alternatives(scored[i - 1].top))
            }
        }
        if let result {
            for (i, id) in result.tokens.enumerated() {
                tokens.append(text(id))
                lps.append(Double(result.tokenLogprobs[i]))
                tops.append(i < result.topLogprobs.count ? alternatives(result.topLogprobs[i]) : [])
            }
        }
        var offsets: [Int] = []
        var at = 0
        for t in tokens {
            offsets.append(at)
            at += t.count
        }
        let body = (r.echo ? r.prompt : "") + (result?.text ?? "")
        let finish = result.map { $0.finishReason == .length ? "length" : "stop" } ?? "length"
        return CompletionChoice(text: body, tokens: tokens, tokenLogprobs: lps, topLogprobs: tops, textOffsets: offsets,
                                finishReason: finish, withLogprobs: r.logprobs != nil)
    }
}
