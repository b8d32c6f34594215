import DistillML
import Foundation
import Synchronization

/// One model's engine loop: a dedicated thread owns the model and its `Generator` (both not thread-safe) and steps
/// the batch while there is work; HTTP handlers hand requests in through a locked inbox and get events back through
/// their sink (called on the engine thread; sinks feed AsyncStreams). Requests join and leave the batch between
/// steps (continuous batching); a bounded number may wait, beyond which `submit` refuses (the server's 503).
public final class ServeEngine: @unchecked Sendable {
    /// What a request's sink hears, on the engine thread.
    public enum Event: Sendable {
        case token(GenerationEvent)
        case finished(GenerationResult)
        case failed(String)
        /// Log-probabilities of every prompt token after the first (scoring), with the top alternatives.
        case scored([(logprob: Float, top: [(id: Int, logprob: Float)])])
    }
    public typealias Sink = @Sendable (Event) -> Void

    private enum Command {
        case submit(GenerationRequest, Sink)
        case score([Int], top: Int, Sink)
        case cancel(Int)
    }

    private struct Inbox {
        var commands: [Command] = []
        /// Requests accepted and not yet finished (queued, in a slot, or still in `commands`).
        var inFlight = 0
        var stopping = false
        var nextID = 1
    }

    public let name: String
    public let model: LanguageModel
    public let slots: Int
    public let queueLimit: Int
    public let contextLength: Int
    private let generator: Generator
    private let inbox = Mutex(Inbox())
    private let wake = NSCondition()
    private let exited = DispatchSemaphore(value: 0)
    private var sinks: [Int: Sink] = [:]  // engine thread only
    private var scoreCache: KVCache?  // engine thread only
    /// Running and queued counts as of the last step, for /metrics (read under `inbox`).
    private let depth = Mutex((running: 0, queued: 0))

    /// - Parameters:
    ///   - slots: sequences decoded together; `queue`: requests that may wait for a slot beyond those.
    ///   - context: longest prompt + answer per slot (bounded by the model's context).
    public init(name: String, model: LanguageModel, slots: Int, queue: Int, context: Int) {
        self.name = name
        self.model = model
        self.slots = slots
        queueLimit = queue
        contextLength = min(context, model.model.config.contextLength)
        generator = model.generator(slots: slots, capacity: contextLength)
        let thread = Thread { [self] in run() }
        thread.name = "distill-serve-\(name)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A fresh request id (ids are unique per engine).
    public func newID() -> Int { inbox.withLock { s in defer { s.nextID += 1 }; return s.nextID } }

    /// Queues requests that must all be admitted together (the n choices of one call); false when the queue is
    /// full or the engine is stopping.
    public func submit(_ requests: [GenerationRequest], sink: @escaping Sink) -> Bool {
        let ok = inbox.withLock { s -> Bool in
            guard !s.stopping, s.inFlight + requests.count <= slots + queueLimit else { return false }
            s.inFlight += requests.count
            for r in requests { s.commands.append(.submit(r, sink)) }
            return true
        }
        if ok { signal() }
        return ok
    }

    /// Scores `tokens` (a whole-prompt forward pass, between generation steps); false when full or stopping.
    public func score(_ tokens: [Int], top: Int, sink: @escaping Sink) -> Bool {
        let ok = inbox.withLock { s -> Bool in
            guard !s.stopping, s.inFlight + 1 <= slots + queueLimit else { return false }
            s.inFlight += 1
            s.commands.append(.score(tokens, top: top, sink))
            return true
        }
        if ok { signal() }
        return ok
    }

    /// Drops a request (a client that went away); its sink hears `.finished` with reason `.cancelled`.
    public func cancel(_ id: Int) {
        inbox.withLock { $0.commands.append(.cancel(id)) }
        signal()
    }

    /// Requests accepted and not finished; running and queued as of the last step.
    public var inFlight: Int { inbox.withLock { $0.inFlight } }
    public var counts: (running: Int, queued: Int) { depth.withLock { $0 } }

    /// Refuses new work; `drain` waits up to `within` for what is in flight, then cancels the rest and ends the thread.
    public func stop(within: Duration) {
        inbox.withLock { $0.stopping = true }
        let deadline = ContinuousClock.now + within
        while inFlight > 0 && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        inbox.withLock { $0.commands.append(.cancel(-1)) }  // -1: cancel everything, then exit
        signal()
        exited.wait()
        exited.signal()  // so that a second stop (or a concurrent one) returns too
    }

    private func signal() {
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    private func run() {
        while true {
            wake.lock()
            var commands: [Command] = []
            while true {
                commands = inbox.withLock { s in defer { s.commands = [] }; return s.commands }
                if !commands.isEmpty || generator.hasWork { break }
                wake.wait()
            }
            wake.unlock()
            for command in commands {
                switch command {
                case .submit(let r, let sink):
                    sinks[r.id] = sink
                    generator.submit(r)
                case .score(let tokens, let top, let sink):
                    sink(score(tokens, top: top))
                    finishOne()
                case .cancel(let id) where id == -1:
                    for id in sinks.keys.sorted() { _ = generator.cancel(id) }
                    for (_, sink) in sinks { sink(.failed("the server is shutting down")) }
                    inbox.withLock { $0.inFlight -= sinks.count }
                    sinks = [:]
                    exited.signal()
                    return
                case .cancel(let id):
                    if let result = generator.cancel(id), let sink = sinks.removeValue(forKey: id) {
                        sink(.finished(result))
                        finishOne()
                    }
                    depth.withLock { $0 = (generator.runningCount, generator.queuedCount) }
                }
            }
            guard generator.hasWork else { continue }
            do {
                let events = try generator.step()
                depth.withLock { $0 = (generator.runningCount, generator.queuedCount) }
                for event in events { deliver(event) }
            } catch {
                // A pass that throws has no partial result to keep: every request in it fails, the server goes on.
                for id in sinks.keys.sorted() { _ = generator.cancel(id) }
                for (_, sink) in sinks { sink(.failed("the engine failed: \(error)")) }
                inbox.withLock { $0.inFlight -= sinks.count }
                sinks = [:]
            }
        }
    }

    private func deliver(_ event: GenerationEvent) {
        switch event {
        case .token(let id, _, _, _, _):
            sinks[id]?(.token(event))
        case .finished(let result):
            if let sink = sinks.removeValue(forKey: result.id) {
                sink(.finished(result))
                finishOne()
            }
        case .failed(let id, let message):
            if let sink = sinks.removeValue(forKey: id) {
                sink(.failed(message))
                finishOne()
            }
        }
    }

    private func finishOne() { inbox.withLock { $0.inFlight -= 1 } }

    /// Log p(token i | tokens before i) for i ≥ 1, in passes of 64 tokens so the logits stay small.
    private func score(_ tokens: [Int], top: Int) -> Event {
        guard tokens.count >= 1, tokens.count <= contextLength else {
            return .failed("the text is \(tokens.count) tokens; this server scores 1 to \(contextLength)")
        }
        let cache = scoreCache ?? KVCache(config: model.model.config, slots: 1, capacity: contextLength)
        scoreCache = cache
        cache.reset(slot: 0)
        var out: [(logprob: Float, top: [(id: Int, logprob: Float)])] = []
        var start = 0
        do {
            while start < tokens.count {
                let end = min(tokens.count, start + 64)
                try model.model.forward([LlamaModel.Chunk(slot: 0, tokens: Array(tokens[start..<end]))], cache: cache, logits: .all)
                for row in 0..<(end - start) where start + row + 1 < tokens.count {
                    let (lp, alts) = Sampler.logprobs(model.model.logits(row), id: tokens[start + row + 1], top: top)
                    out.append((lp, alts))
                }
                start = end
            }
        } catch {
            return .failed("scoring failed: \(error)")
        }
        return .scored(out)
    }
}
