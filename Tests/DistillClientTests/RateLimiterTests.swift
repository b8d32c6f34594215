import DistillHTTP
@testable import DistillClient
import DistillTestSupport
import Testing

/// Token-bucket pacing on a virtual clock: exact admission times, refunds, cooldowns, header steering.
@Suite struct RateLimiterTests {
    @Test func requestBucketPacesAtTheLimitAfterTheBurst() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(requestsPerMinute: 600, burstSeconds: 1, headroom: 1), clock: clock)
        for _ in 0..<110 { _ = try await limiter.acquire(estimatedTokens: 0) }
        // 10 from the full bucket at t=0, then 10/s: the 110th goes at t=10 s.
        let seconds = clock.elapsed / .seconds(1)
        #expect(abs(seconds - 10) < 0.01)
    }

    @Test func tokenBucketReservesEstimateAndRefundsUnusedTokens() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(tokensPerMinute: 6000, burstSeconds: 1, headroom: 1), clock: clock)  // 100/s, cap 100
        let first = try await limiter.acquire(estimatedTokens: 80)
        #expect(clock.elapsed == .zero)
        // 20 left; a second 80-token request must wait 0.6 s for the bucket...
        await limiter.settle(first, actualTokens: 20)  // ...unless 60 come back: then it goes at once.
        _ = try await limiter.acquire(estimatedTokens: 80)
        #expect(clock.elapsed == .zero)
        _ = try await limiter.acquire(estimatedTokens: 50)  // 0 left: 0.5 s
        #expect(abs(clock.elapsed / .seconds(1) - 0.5) < 1e-6)
    }

    @Test func requestLargerThanTheBucketGoesWhenFullAndLeavesADebt() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(tokensPerMinute: 600, burstSeconds: 1, headroom: 1), clock: clock)  // 10/s, cap 10
        _ = try await limiter.acquire(estimatedTokens: 500)  // full bucket: admitted, level 10 - 500 = -490
        #expect(clock.elapsed == .zero)
        _ = try await limiter.acquire(estimatedTokens: 500)  // waits until the bucket is full again: 500 / 10 = 50 s
        #expect(abs(clock.elapsed / .seconds(1) - 50) < 1e-6)  // so 1,000 tokens took 50 s + the 1 s burst: 600/min
    }

    @Test func cooldownPausesEveryone() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(), clock: clock)
        await limiter.cooldown(for: .seconds(15))
        _ = try await limiter.acquire(estimatedTokens: 1)
        #expect(clock.elapsed == .seconds(15))
        _ = try await limiter.acquire(estimatedTokens: 1)
        #expect(clock.elapsed == .seconds(15))
    }

    @Test func learnsTheLimitFromHeadersAndHonoursRemainingZero() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(), clock: clock)
        _ = try await limiter.acquire(estimatedTokens: 5)
        await limiter.observe([("x-ratelimit-limit-requests", "120"), ("x-ratelimit-remaining-requests", "50"),
                               ("x-ratelimit-reset-requests", "12ms"), ("x-ratelimit-limit-tokens", "60000"),
                               ("x-ratelimit-remaining-tokens", "59000"), ("x-ratelimit-reset-tokens", "6m0s")])
        let learned = await limiter.currentLimits
        #expect(learned.requestsPerMinute == 120)
        #expect(learned.tokensPerMinute == 60000)
        await limiter.observe([("x-ratelimit-limit-requests", "120"), ("x-ratelimit-remaining-requests", "0"),
                               ("x-ratelimit-reset-requests", "1.5s")])
        _ = try await limiter.acquire(estimatedTokens: 5)
        #expect(clock.elapsed >= .milliseconds(1500))
        #expect(clock.elapsed < .seconds(2))
    }

    @Test func configuredLimitIsNotOverriddenByHeaders() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(requestsPerMinute: 60), clock: clock)
        await limiter.observe([("x-ratelimit-limit-requests", "10000"), ("x-ratelimit-remaining-requests", "9999")])
        #expect(await limiter.currentLimits.requestsPerMinute == 60)
    }

    @Test func cancelledWaiterStops() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(requestsPerMinute: 60), clock: clock)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await limiter.acquire(estimatedTokens: 1)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    /// Ten simulated minutes against a provider metering 600 requests per sliding 60-second window, the limit
    /// learned from the `x-ratelimit-*` headers it sends: at least 97% of the limit, and never over it.
    @Test func simulatedSlidingWindowForTenMinutes() async throws {
        let clock = VirtualClock()
        let limiter = RateLimiter(limits: .init(), clock: clock)
        let limit = 600
        let window = Duration.seconds(60)
        var admitted: [Duration] = []  // arrival times inside the window
        var served = 0
        var refused = 0
        while clock.elapsed < .seconds(600) {
            _ = try await limiter.acquire(estimatedTokens: 10)
            let now = clock.elapsed
            admitted.removeAll { now - $0 >= window }
            if admitted.count >= limit {
                refused += 1
                await limiter.cooldown(for: (admitted.first ?? now) + window - now)
                continue
            }
            admitted.append(now)
            served += 1
            await limiter.observe([("x-ratelimit-limit-requests", String(limit)),
                                   ("x-ratelimit-remaining-requests", String(limit - admitted.count)),
                                   ("x-ratelimit-reset-requests", GoDuration.format((admitted.first ?? now) + window - now))])
            clock.advance(by: .milliseconds(1))  // the request itself
        }
        #expect(refused == 0)
        #expect(Double(served) >= 0.97 * 6000, "served \(served) in 10 minutes at 600/min")
        #expect(served <= 6000 + 1)
    }

    @Test func tokenEstimateCoversCJKAndMaxTokens() {
        let english = ChatRequest(model: "m", messages: [.user(String(repeating: "abcd", count: 100))], maxTokens: 50)
        // 100 Latin tokens + one message's framing (5) + the reply's opening (3) + max tokens.
        #expect(TokenEstimator.heuristic.requestTokens(english) == 100 + 5 + 3 + 50)
        let chinese = ChatRequest(model: "m", messages: [.user(String(repeating: "蒸", count: 100))])
        #expect(TokenEstimator.heuristic.requestTokens(chinese) >= 100)  // ~1 token per CJK character, not 300 bytes / 4 = 75
    }
}
