import DistillHTTP
import Foundation

/// The one retry loop: which failures are worth another attempt, how long to wait, and when to give up.
///
/// Retried: transport failures (connect errors, resets, timeouts), 408, 409, 429 and 5xx, and 2xx bodies that are not
/// chat completions. Never: 400, 401, 403, 404, 422 (or other 4xx), and a 429 with `insufficient_quota`, which ends
/// at once. `x-should-retry` overrides the status. The wait is the server's (`retry-after-ms`, then `retry-after`
/// seconds or HTTP-date) when given, else full-jitter exponential backoff: uniform in [0, min(cap, base·2^n)]
/// (harvest.md §5: openai-python's 8 s cap gives up too soon for bulk work). A server wait over `maxRetryAfter`
/// parks the request for that long (up to `maxPark`) instead of failing it, and does not use up an attempt.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var base: Duration
    public var cap: Duration
    /// The longest server-requested wait treated as an ordinary retry.
    public var maxRetryAfter: Duration
    /// The longest a request is parked for; beyond it, it fails.
    public var maxPark: Duration
    /// Uniform random number in [0, 1) for the jitter (injectable so tests are deterministic).
    public var random: @Sendable () -> Double
    /// How long one request may keep retrying, from its first attempt (nil: no limit but `maxAttempts`). A request
    /// is given up when the next wait would end past it.
    public var maxElapsed: Duration?
    /// Set by a caller whose rate limiter paces the way back after a 429 (`TeacherClient`): a retryable 429 is then
    /// retried at once — the limiter holds it until the pause ends and its turn comes — without using up an attempt.
    public var rateLimitsPacedByCaller = false

    public init(maxAttempts: Int = 8, base: Duration = .seconds(1), cap: Duration = .seconds(60),
                maxRetryAfter: Duration = .seconds(120), maxPark: Duration = .seconds(3600),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.maxAttempts = maxAttempts
        self.base = base
        self.cap = cap
        self.maxRetryAfter = maxRetryAfter
        self.maxPark = maxPark
        self.random = random
    }

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Equatable {
        case retry(after: Duration)
        case park(for: Duration)
        case stop
    }

    /// Whether this error is worth another attempt at all.
    public static func isRetryable(_ error: TeacherError) -> Bool {
        switch error.kind {
        case .insufficientQuota, .missingKey, .invalidRequest: return false
        case .transport(let e): return e.isRetryable
        case .invalidResponse: return true
        case .http(let status):
            if let override = RateLimitHeaders.shouldRetry(error.headers) { return override }
            return status == 408 || status == 409 || status == 429 || status >= 500
        }
    }

    /// The decision after attempt number `attempt` (1-based) failed with `error`.
    public func decide(after error: TeacherError, attempt: Int, now: Date = Date()) -> Decision {
        guard Self.isRetryable(error) else { return .stop }
        if let asked = RateLimitHeaders.retryAfter(error.headers, now: now) {
            if asked > maxRetryAfter { return asked <= maxPark ? .park(for: asked) : .stop }
            return attempt < maxAttempts ? .retry(after: asked) : .stop
        }
        guard attempt < maxAttempts else { return .stop }
        return .retry(after: backoff(attempt: attempt))
    }

    /// Full jitter: uniform in [0, min(cap, base·2^(attempt−1))].
    public func backoff(attempt: Int) -> Duration {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        let ceiling = min(cap / .seconds(1), (base / .seconds(1)) * pow(2, exponent))
        return .milliseconds(Int64((ceiling * random() * 1000).rounded()))
    }

    /// Runs `operation` until it succeeds, fails for good, or attempts run out; sleeps on `clock` in between.
    /// `operation` gets the 0-based attempt number. Cancellation ends the loop at once.
    public func run<C: Clock, T: Sendable>(
        clock: C, onEvent: @Sendable (TeacherEvent) -> Void = { _ in },
        _ operation: (Int) async throws -> T
    ) async throws -> T where C.Duration == Duration {
        var attempt = 0   // attempts made, parks not counted
        var tries = 0     // every try, for the error's `attempts`
        let start = clock.now
        func outOfTime(after wait: Duration) -> Bool {
            guard let maxElapsed else { return false }
            return start.duration(to: clock.now) + wait > maxElapsed
        }
        while true {
            try Task.checkCancellation()
            do {
                return try await operation(tries)
            } catch var error as TeacherError {
                tries += 1
                error.attempts = tries
                if rateLimitsPacedByCaller, error.isRateLimited, Self.isRetryable(error) {
                    let asked = RateLimitHeaders.retryAfter(error.headers) ?? .zero
                    if asked <= maxPark, !outOfTime(after: asked) {
                        onEvent(asked > maxRetryAfter ? .parked(delay: asked, reason: error.description)
                                                      : .retrying(attempt: attempt, delay: asked, reason: error.description))
                        continue
                    }
                    onEvent(.failed(error))
                    throw error
                }
                attempt += 1
                var decision = decide(after: error, attempt: attempt)
                switch decision {
                case .retry(let d), .park(let d): if outOfTime(after: d) { decision = .stop }
                case .stop: break
                }
                switch decision {
                case .stop:
                    onEvent(.failed(error))
                    throw error
                case .retry(let delay):
                    onEvent(.retrying(attempt: attempt, delay: delay, reason: error.description))
                    try await clock.sleep(for: delay)
                case .park(let delay):
                    attempt -= 1
                    onEvent(.parked(delay: delay, reason: error.description))
                    try await clock.sleep(for: delay)
                }
            }
        }
    }
}
