import DistillHTTP
import Foundation

/// What harvest and judge call: an OpenAI-compatible client with rate limiting, a concurrency cap and the one retry
/// loop, itself a `ChatCompleting`.
///
/// Per attempt: take a concurrency slot, wait for the rate limiter to admit the request (prompt estimate +
/// max_tokens), send it, feed the response's `x-ratelimit-*` headers back to the limiter and refund the estimate
/// against real usage. A 429 pauses dispatch for everyone. Waits between attempts happen outside the slot.
public final class TeacherClient<C: Clock>: ChatCompleting, Sendable where C.Duration == Duration {
    public struct Options: Sendable {
        public var retry: RetryPolicy
        public var limits: RateLimiter<C>.Limits
        public var maxConcurrent: Int
        /// Dispatch pause after a 429 that names no wait of its own.
        public var cooldownAfter429: Duration

        public init(retry: RetryPolicy = RetryPolicy(), limits: RateLimiter<C>.Limits = .init(),
                    maxConcurrent: Int = 64, cooldownAfter429: Duration = .seconds(10)) {
            self.retry = retry
            self.limits = limits
            self.maxConcurrent = maxConcurrent
            self.cooldownAfter429 = cooldownAfter429
        }
    }

    public let openAI: OpenAIClient
    public let options: Options
    public let limiter: RateLimiter<C>
    private let slots: ConcurrencyLimit
    private let clock: C
    private let onEvent: @Sendable (TeacherEvent) -> Void

    public init(openAI: OpenAIClient, options: Options = Options(), clock: C,
                onEvent: @escaping @Sendable (TeacherEvent) -> Void = { _ in }) {
        self.openAI = openAI
        self.options = options
        self.clock = clock
        self.onEvent = onEvent
        limiter = RateLimiter(limits: options.limits, clock: clock)
        slots = ConcurrencyLimit(options.maxConcurrent)
    }

    public var endpoint: Endpoint { openAI.endpoint }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        try await exchange(request).response
    }

    /// Like `complete`, with the headers and latency of the successful attempt.
    public func exchange(_ request: ChatRequest) async throws -> ChatExchange {
        let estimate = TokenEstimator.heuristic.requestTokens(request)
        // One key for every attempt of this logical request, so a provider that honours it deduplicates.
        let idempotencyKey = "distill-" + UUID().uuidString.lowercased()
        let openAI = openAI, limiter = limiter, onEvent = onEvent, slots = slots
        let cooldown = options.cooldownAfter429
        var tries = 0
        // The limiter owns the wait after a 429 (pause, then a learnt pace): the retry loop neither sleeps on it nor
        // counts it as an attempt; the wall-time allowance bounds it.
        var retry = options.retry
        retry.rateLimitsPacedByCaller = true
        let exchange = try await retry.run(clock: clock, onEvent: onEvent) { attempt in
            tries = attempt + 1
            return try await slots.withSlot {
                let reservation = try await limiter.acquire(estimatedTokens: estimate)
                do {
                    let exchange = try await openAI.exchange(request, idempotencyKey: idempotencyKey, attempt: attempt)
                    await limiter.observe(exchange.headers)
                    await limiter.settle(reservation, actualTokens: exchange.response.usage?.totalTokens ?? estimate)
                    return exchange
                } catch let error as TeacherError {
                    await limiter.observe(error.headers)
                    await limiter.settle(reservation, actualTokens: nil)
                    if error.isRateLimited, RetryPolicy.isRetryable(error) {
                        let pause = RateLimitHeaders.retryAfter(error.headers) ?? cooldown
                        await limiter.rateLimited(pause: pause)
                        onEvent(.rateLimited(cooldown: pause))
                    }
                    throw error
                }
            }
        }
        onEvent(.completed(usage: exchange.response.usage, latency: exchange.latency, attempts: tries))
        return exchange
    }
}

extension TeacherClient where C == ContinuousClock {
    /// A client for `endpoint` over a fresh libcurl `HTTPClient`, on the real clock.
    public convenience init(endpoint: Endpoint, options: Options = Options(), http: HTTPClient? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            onEvent: @escaping @Sendable (TeacherEvent) -> Void = { _ in }) throws {
        let transport = try http ?? HTTPClient()
        self.init(openAI: OpenAIClient(endpoint: endpoint, http: transport, environment: environment),
                  options: options, clock: ContinuousClock(), onEvent: onEvent)
    }
}
