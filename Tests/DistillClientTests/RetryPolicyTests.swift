import DistillHTTP
@testable import DistillClient
import DistillTestSupport
import Foundation
import Testing

/// The retry decision and loop, without sockets, on a virtual clock.
@Suite struct RetryPolicyTests {
    static func http(_ status: Int, _ headers: [(name: String, value: String)] = []) -> TeacherError {
        TeacherError(kind: .http(status: status), message: "status \(status)", headers: headers)
    }

    static let fixed = RetryPolicy(random: { 0.5 })

    @Test(arguments: [408, 409, 429, 500, 502, 503, 504, 529])
    func retriesTransientStatuses(status: Int) {
        #expect(RetryPolicy.isRetryable(Self.http(status)))
        #expect(Self.fixed.decide(after: Self.http(status), attempt: 1) == .retry(after: .milliseconds(500)))
    }

    @Test(arguments: [400, 401, 403, 404, 422, 413])
    func neverRetriesClientErrors(status: Int) {
        #expect(!RetryPolicy.isRetryable(Self.http(status)))
        #expect(Self.fixed.decide(after: Self.http(status), attempt: 1) == .stop)
    }

    @Test func insufficientQuotaStopsAtOnce() {
        let e = TeacherError(kind: .insufficientQuota, message: "You exceeded your current quota",
                             headers: [("retry-after", "1")])
        #expect(Self.fixed.decide(after: e, attempt: 1) == .stop)
    }

    @Test func transportFailuresAreRetriedButCancellationIsNot() {
        for e in [HTTPClientError.connectionFailed, .connectionLost, .connectTimeout, .totalTimeout, .idleTimeout] {
            #expect(RetryPolicy.isRetryable(TeacherError(kind: .transport(e), message: e.message)))
        }
        #expect(!RetryPolicy.isRetryable(TeacherError(kind: .transport(.cancelled), message: "")))
        #expect(!RetryPolicy.isRetryable(TeacherError(kind: .transport(.tls), message: "")))
        #expect(RetryPolicy.isRetryable(TeacherError(kind: .invalidResponse, message: "not JSON")))
    }

    @Test func xShouldRetryOverridesTheStatus() {
        #expect(!RetryPolicy.isRetryable(Self.http(503, [("x-should-retry", "false")])))
        #expect(RetryPolicy.isRetryable(Self.http(400, [("X-Should-Retry", "true")])))
    }

    @Test func retryAfterFormsInOrderOfPreference() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        // retry-after-ms wins over retry-after.
        #expect(RateLimitHeaders.retryAfter([("retry-after", "7"), ("retry-after-ms", "1250")], now: now) == .milliseconds(1250))
        #expect(RateLimitHeaders.retryAfter([("Retry-After", "3")], now: now) == .seconds(3))
        #expect(RateLimitHeaders.retryAfter([("retry-after", "0.25")], now: now) == .milliseconds(250))
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        #expect(RateLimitHeaders.retryAfter([("retry-after", "Tue, 14 Nov 2023 22:13:50 GMT")], now: now) == .seconds(30))
        #expect(RateLimitHeaders.retryAfter([("retry-after", "Tue, 14 Nov 2023 22:00:00 GMT")], now: now) == .zero)
        #expect(RateLimitHeaders.retryAfter([("retry-after", "soon")], now: now) == nil)
        #expect(RateLimitHeaders.retryAfter([], now: now) == nil)
    }

    @Test func serverWaitIsHonouredThenParkedPastTheCap() {
        let policy = RetryPolicy(maxRetryAfter: .seconds(120), maxPark: .seconds(3600), random: { 0.5 })
        #expect(policy.decide(after: Self.http(429, [("retry-after", "90")]), attempt: 1) == .retry(after: .seconds(90)))
        #expect(policy.decide(after: Self.http(429, [("retry-after", "600")]), attempt: 1) == .park(for: .seconds(600)))
        #expect(policy.decide(after: Self.http(429, [("retry-after", "7200")]), attempt: 1) == .stop)
    }

    @Test func fullJitterBackoffStaysUnderTheExponentialCeiling() {
        let top = RetryPolicy(base: .seconds(1), cap: .seconds(60), random: { 0.999_999 })
        let ceilings = (1...8).map { top.backoff(attempt: $0) }
        #expect(ceilings.map { Int(($0 / .seconds(1)).rounded()) } == [1, 2, 4, 8, 16, 32, 60, 60])
        let bottom = RetryPolicy(random: { 0 })
        #expect((1...8).allSatisfy { bottom.backoff(attempt: $0) == .zero })
        // Random draws land anywhere in [0, ceiling].
        let real = RetryPolicy()
        let draws = (0..<200).map { _ in real.backoff(attempt: 4) / .seconds(1) }
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= 8 })
        #expect(Set(draws.map { Int($0) }).count > 4)
    }

    @Test func loopStopsAfterMaxAttemptsAndSleepsBetween() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 4, base: .seconds(1), cap: .seconds(60), random: { 0.5 })
        var calls = 0
        await #expect(throws: TeacherError.self) {
            _ = try await policy.run(clock: clock) { (_: Int) async throws -> Int in
                calls += 1
                throw Self.http(503)
            }
        }
        #expect(calls == 4)
        #expect(clock.sleeps == [.milliseconds(500), .seconds(1), .seconds(2)])
    }

    @Test func parkingDoesNotUseUpAttempts() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 2, maxRetryAfter: .seconds(5), random: { 0.5 })
        var calls = 0
        let value = try await policy.run(clock: clock) { (_: Int) async throws -> String in
            calls += 1
            if calls <= 3 { throw Self.http(429, [("retry-after", "30")]) }
            return "ok"
        }
        #expect(value == "ok")
        #expect(clock.sleeps == [.seconds(30), .seconds(30), .seconds(30)])
    }

    @Test func errorCarriesTheAttemptCount() async {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 3, random: { 0 })
        do {
            _ = try await policy.run(clock: clock) { (_: Int) async throws -> Int in throw Self.http(500) }
            Issue.record("expected a failure")
        } catch let e as TeacherError {
            #expect(e.attempts == 3)
            #expect(e.description.contains("after 3 attempts"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func goDurationsParseAndFormat() {
        #expect(GoDuration.parse("6m0s") == .seconds(360))
        #expect(GoDuration.parse("12ms") == .milliseconds(12))
        #expect(GoDuration.parse("1h2m3.5s") == .milliseconds(3_723_500))
        #expect(GoDuration.parse("250us") == .microseconds(250))
        #expect(GoDuration.parse("20") == .seconds(20))
        #expect(GoDuration.parse("abc") == nil)
        #expect(GoDuration.format(.seconds(360)) == "6m0s")
        #expect(GoDuration.format(.milliseconds(12)) == "12ms")
        #expect(GoDuration.format(.milliseconds(1500)) == "1.5s")
        #expect(GoDuration.format(.zero) == "0s")
        #expect(GoDuration.format(.seconds(3723)) == "1h2m3s")
    }
}
