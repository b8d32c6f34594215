import DistillData
import DistillHTTP
import DistillML
import DistillOpenAI
import Foundation

extension ServeServer {
    /// A chat reply as server-sent events: per choice a first chunk with the role, one chunk per text delta (with
    /// logprobs when asked), a last chunk with the finish reason; then the usage chunk (`include_usage`) and
    /// `[DONE]`. A failure after the 200 went out is an `error` event, never text.
    func streamChat(_ job: ChatJob) -> HTTPServerResponse {
        let (events, continuation) = AsyncStream<ServeEngine.Event>.makeStream()
        guard job.served.engine.submit(job.requests, sink: { continuation.yield($0) }) else {
            return Self.error(Self.queueFull, headers: [("Retry-After", "1")])
        }
        cancelOnHangUp(continuation, job.requests.map(\.id), job.served.engine)
        let start = ContinuousClock.now
        let indexOf = Dictionary(uniqueKeysWithValues: job.requests.enumerated().map { ($0.element.id, $0.offset) })
        return HTTPServerResponse(
            status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
            body: .stream { [self] writer in
                func chunk(_ index: Int, role: String? = nil, content: String? = nil, logprobs: [TokenLogprob]? = nil,
                           finish: String? = nil) {
                    writer.write(ServerSentEvents.event(ChatChunk(
                        id: job.id, model: job.served.name, created: job.created, index: index, role: role,
                        content: content, logprobs: logprobs, finishReason: finish).json))
                }
                for i in job.requests.indices { chunk(i, role: "assistant", content: "") }
                var done = 0
                var completion = 0
                var firstToken = true
                var failure: String?
                var sent: [Int: Int] = [:]  // UTF-8 bytes of text streamed per request
                for await event in events {
                    switch event {
                    case .token(.token(let id, let token, let text, let lp, let top)):
                        if firstToken {
                            firstToken = false
                            metrics.firstToken(seconds: (ContinuousClock.now - start) / .seconds(1))
                        }
                        guard let index = indexOf[id] else { continue }
                        let logprobs = job.request.logprobs == true ? [logprob(token, Double(lp), top: top, job.served)] : nil
                        sent[id, default: 0] += text.utf8.count
                        if !text.isEmpty || logprobs != nil { chunk(index, content: text, logprobs: logprobs) }
                    case .token: break
                    case .finished(let r):
                        guard let index = indexOf[r.id] else { continue }
                        done += 1
                        completion += r.tokens.count
                        metrics.tokens(prompt: index == 0 ? r.promptTokenCount : 0, completion: r.tokens.count,
                                       cached: r.cachedPromptTokens)
                        // The deltas streamed so far are the text up to a held-back tail (a possible stop string,
                        // half a character): send what is left, and a JSON answer's closing if it was cut.
                        let (text, finish) = finalText(r, constraint: job.constraints[r.id])
                        let already = sent[r.id] ?? 0
                        if text.utf8.count > already {
                            chunk(index, content: String(decoding: Array(text.utf8)[already...], as: UTF8.self))
                        }
                        chunk(index, finish: finish)
                    case .failed(let message):
                        failure = failure ?? message
                        done += 1
                    case .scored: break
                    }
                    if done >= job.requests.count { continuation.finish() }
                }
                recordConstraints(job)
                if let failure {
                    writer.write(ServerSentEvents.event(OpenAIError(status: 500, type: "server_error", message: failure).json))
                } else if job.request.includeUsage == true {
                    writer.write(ServerSentEvents.event(ChatChunk.usage(
                        id: job.id, model: job.served.name, created: job.created,
                        ChatUsage(promptTokens: job.prompt.count, completionTokens: completion))))
                }
                writer.write(ServerSentEvents.done)
                metrics.streamEnded(seconds: (ContinuousClock.now - start) / .seconds(1))
            })
    }

    /// When the handler's task is cancelled (the HTTP server saw the client hang up), the stream ends and the
    /// engine drops the requests: their slots and queue places are free at the next step, not after max_tokens.
    func cancelOnHangUp(_ continuation: AsyncStream<ServeEngine.Event>.Continuation, _ ids: [Int], _ engine: ServeEngine) {
        let metrics = metrics
        continuation.onTermination = { termination in
            guard case .cancelled = termination else { return }
            for id in ids { engine.cancel(id) }
            metrics.cancelled(ids.count)
        }
    }
}
