/// Paces dispatch under requests-per-minute and tokens-per-minute limits, so a limit is approached, not hit.
///
/// Two token buckets (harvest.md §5.1): each refills continuously at limit/60 per second up to `burst` seconds' worth.
/// A request is admitted when one request and its token estimate (prompt + max_tokens) are available; the estimate
/// is reserved, and `settle` refunds it against the real usage. A 429 pauses dispatch for everyone (`cooldown`).
/// Live `x-ratelimit-*` headers steer it: a limit the caller did not configure is learned, a bucket never holds more
/// than the server says remains, and `remaining: 0` waits out the server's reset. Generic over `Clock` so tests run
/// on a manual clock.
public actor RateLimiter<C: Clock> where C.Duration == Duration {
    public struct Limits: Sendable {
        public var requestsPerMinute: Int?
        public var tokensPerMinute: Int?
        /// Bucket capacity in seconds of refill. Small by default: providers meter over windows, and a full minute's
        /// burst at start-up is what trips them.
        public var burstSeconds: Double
        /// Adopt limits from `x-ratelimit-limit-*` headers when not configured.
        public var learnFromHeaders: Bool
        /// Fraction of each limit actually used: a little under 1 absorbs timing jitter against windowed meters.
        public var headroom: Double

        public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, burstSeconds: Double = 1,
                    learnFromHeaders: Bool = true, headroom: Double = 0.99) {
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
            self.burstSeconds = burstSeconds
            self.learnFromHeaders = learnFromHeaders
            self.headroom = headroom
        }
    }

    /// What an admitted request holds until it is settled.
    public struct Reservation: Sendable {
        public let tokens: Int
    }

    /// One continuously refilling bucket.
    struct Bucket {
        var perSecond: Double
        var capacity: Double
        var level: Double
        var updated: C.Instant

        init(perMinute: Int, limits: Limits, now: C.Instant) {
            let burstSeconds = limits.burstSeconds
            perSecond = Double(perMinute) * limits.headroom / 60
            capacity = max(1, perSecond * burstSeconds)
            level = capacity
            updated = now
        }

        mutating func refill(_ now: C.Instant) {
            let dt = Double(updated.duration(to: now) / .nanoseconds(1)) / 1e9
            if dt > 0 { level = min(capacity, level + dt * perSecond) }
            updated = now
        }

        /// Seconds until `amount` is available (an amount over capacity waits for a full bucket).
        func wait(for amount: Double) -> Double {
            let need = min(amount, capacity) - level
            // A shortfall of a billionth is rounding, not a reason to sleep (a sleep that short never moves time).
            return need <= 1e-9 ? 0 : need / perSecond
        }
    }

    private let clock: C
    private var limits: Limits
    private var requests: Bucket?
    private var tokens: Bucket?
    private var pausedUntil: C.Instant?
    /// When requests succeeded in the last minute (to estimate a rate a 429 says is too high).
    private var successes: [C.Instant] = []
    private let started: C.Instant
    /// Whether the requests bucket was made from 429s (not configured, not from headers), so later 429s tighten it.
    private var learnedFrom429 = false
    private var lastTightened: C.Instant?
    /// Recent 429s: a limit shows as a burst of them (every request in flight refused at once); a lone one is a
    /// busy server and only pauses.
    private var recent429: [C.Instant] = []
    /// The learnt pace grows back at most to this (per second): far above any real limit, it only bounds the sums.
    private let learnedCeiling = 1000.0

    public init(limits: Limits = Limits(), clock: C) {
        self.clock = clock
        self.limits = limits
        let now = clock.now
        started = now
        requests = limits.requestsPerMinute.map { Bucket(perMinute: $0, limits: limits, now: now) }
        tokens = limits.tokensPerMinute.map { Bucket(perMinute: $0, limits: limits, now: now) }
    }

    /// Waits until a request estimated at `estimatedTokens` may go, and reserves it. Throws on cancellation.
    public func acquire(estimatedTokens: Int) async throws -> Reservation {
        while true {
            try Task.checkCancellation()
            let now = clock.now
            if let until = pausedUntil, until > now {
                try await clock.sleep(until: until, tolerance: nil)
                continue  // state may have changed while suspended (actor reentrancy): look again
            }
            requests?.refill(now)
            tokens?.refill(now)
            let wait = max(requests?.wait(for: 1) ?? 0, tokens?.wait(for: Double(estimatedTokens)) ?? 0)
            if wait <= 0 {
                requests?.level -= 1
                tokens?.level -= Double(estimatedTokens)
                return Reservation(tokens: estimatedTokens)
            }
            try await clock.sleep(until: now.advanced(by: .nanoseconds(max(1000, Int64((wait * 1e9).rounded(.up))))), tolerance: nil)
        }
    }

    /// Refunds the part of the reservation the request did not use (or charges the overrun).
    /// `actualTokens` nil: the request failed before the server counted tokens; everything is refunded.
    public func settle(_ reservation: Reservation, actualTokens: Int?) {
        if actualTokens != nil {
            let now = clock.now
            // Additive-increase side of the learnt pace: each success loosens it a little, so a stray 429 (a busy
            // server, not a limit) does not slow the run for good.
            if learnedFrom429, var bucket = requests, bucket.perSecond < learnedCeiling {
                bucket.refill(now)
                bucket.perSecond = min(learnedCeiling, bucket.perSecond * 1.1)
                bucket.capacity = max(1, bucket.perSecond * limits.burstSeconds)
                requests = bucket
            }
            successes.append(now)
            if successes.count > 64, let first = successes.first, first.duration(to: now) > .seconds(60) {
                successes.removeAll { $0.duration(to: now) > .seconds(60) }
            }
        }
        guard var bucket = tokens else { return }
        bucket.refill(clock.now)
        bucket.level = min(bucket.capacity, bucket.level + Double(reservation.tokens - (actualTokens ?? 0)))
        tokens = bucket
    }

    /// Pauses all dispatch for `duration` (after a 429), extending any pause already running.
    public func cooldown(for duration: Duration) {
        let until = clock.now.advanced(by: duration)
        if let current = pausedUntil, current > until { return }
        pausedUntil = until
    }

    /// A 429: pauses dispatch for `pause` (the server's Retry-After, else the client's cooldown), and makes the
    /// limiter, not each waiting request, own the way back. With no requests limit configured or announced in
    /// headers, a burst of 429s (three within 2 s) makes it learn one — half the rate that succeeded over the last
    /// minute, at least one a second — each further 429 tightens it (×0.7, at most once per pause) and each success
    /// loosens it (×1.1), so a real limit
    /// is settled near and a stray 429 costs little; the bucket starts empty, so the waiting requests leave one by one at that
    /// rate after the pause instead of all together when it ends.
    public func rateLimited(pause: Duration) {
        cooldown(for: pause)
        let now = clock.now
        guard limits.requestsPerMinute == nil else { return }
        recent429.append(now)
        recent429.removeAll { $0.duration(to: now) > .seconds(2) }
        if requests == nil {
            guard recent429.count >= 3 else { return }
            let recent = successes.filter { $0.duration(to: now) <= .seconds(60) }
            let span = max(1, min(60, Double(started.duration(to: now) / .milliseconds(1)) / 1000))
            // At least one a second: with no successes yet to go by, later 429s tighten it from there.
            let perMinute = max(60, Int((Double(recent.count) / span * 60 * 0.5).rounded(.down)))
            var bucket = Bucket(perMinute: perMinute, limits: limits, now: now)
            bucket.level = 0
            requests = bucket
            learnedFrom429 = true
            lastTightened = now
        } else if learnedFrom429, var bucket = requests {
            if let last = lastTightened, last.duration(to: now) < max(pause, .seconds(1)) { return }
            bucket.refill(now)
            bucket.perSecond = max(1.0 / 60, bucket.perSecond * 0.7)
            bucket.capacity = max(1, bucket.perSecond * limits.burstSeconds)
            bucket.level = 0
            requests = bucket
            lastTightened = now
        } else if var bucket = requests {
            // A limit from headers that still met a 429: start its refill from empty.
            bucket.refill(now)
            bucket.level = 0
            requests = bucket
        }
    }

    /// Takes in a response's rate-limit headers.
    public func observe(_ headers: [(name: String, value: String)]) {
        let now = clock.now
        if let r = RateLimitHeaders.requests(headers) {
            if learnedFrom429, r.limit != nil, limits.learnFromHeaders {
                // The server said its limit: it replaces the one guessed from 429s.
                requests = nil
                learnedFrom429 = false
            }
            requests = adjusted(requests, by: r, configured: limits.requestsPerMinute, now: now)
        }
        if let t = RateLimitHeaders.tokens(headers) {
            tokens = adjusted(tokens, by: t, configured: limits.tokensPerMinute, now: now)
        }
    }

    private func adjusted(_ bucket: Bucket?, by header: RateLimitHeaders.Limit, configured: Int?,
                          now: C.Instant) -> Bucket? {
        var b = bucket
        if b == nil, configured == nil, limits.learnFromHeaders, let limit = header.limit, limit > 0 {
            b = Bucket(perMinute: limit, limits: limits, now: now)
        }
        guard var bucket = b else { return nil }
        bucket.refill(now)
        if let remaining = header.remaining {
            // The server's count includes requests we have in flight; trust it when it is the stricter one.
            bucket.level = min(bucket.level, Double(remaining))
            if remaining <= 0, let reset = header.reset, reset > .zero { cooldown(for: reset) }
        }
        return bucket
    }

    /// The limits in force now (configured or learned), for progress displays.
    public var currentLimits: (requestsPerMinute: Int?, tokensPerMinute: Int?) {
        (requests.map { Int(($0.perSecond * 60 / limits.headroom).rounded()) },
         tokens.map { Int(($0.perSecond * 60 / limits.headroom).rounded()) })
    }
}
