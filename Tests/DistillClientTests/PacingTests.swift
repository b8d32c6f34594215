import DistillHTTP
@testable import DistillClient
import DistillTestSupport
import Foundation
import Synchronization
import Testing

/// Against a server enforcing 600 requests per minute, the client runs near the limit without tripping it.
/// (`RateLimiterTests.simulatedSlidingWindowForTenMinutes` checks the same on a virtual clock, exactly.)
///
/// Each run is 20 s of real time at 10 requests/s (so ~200 requests). Two runs, in parallel:
/// - the provider's real shape: 600 per 60-second sliding window; the client is told nothing and learns the limit
///   from `x-ratelimit-*` headers.
/// - a scaled window, so that in 20 s the window fills and slides twice: 100 per 10 s (the same 600/min), with the
///   client configured at 600 RPM. Any overshoot shows up as 429s here.
@Suite struct PacingTests {
    struct Outcome {
        var ok: Int
        var rateLimited: Int
        var requests: Int
        /// From the first completion to the last: the steady rate, without start-up and wind-down.
        var seconds: Double
        /// How late a 20 ms sleep woke up, 90th percentile, measured beside the load. A few milliseconds normally;
        /// far more means tasks (the limiter's waits among them) were not getting the CPU, and the run says nothing
        /// about pacing.
        var wakeLateness: Duration
        var rate: Double { Double(ok - 1) / seconds }
        var starved: Bool { wakeLateness > .milliseconds(25) }

        /// Undershooting the limit is a failure of the pacer only if requests were not held up elsewhere: on a
        /// starved machine (the whole test suite on two cores) the shortfall is recorded as a known issue instead.
        func expectNearLimit() {
            if starved {
                withKnownIssue("machine too busy (sleeps woke \(wakeLateness) late); \(rate) req/s", isIntermittent: true) {
                    #expect(rate >= 0.97 * 10)
                }
            } else {
                #expect(rate >= 0.97 * 10, "achieved \(rate) req/s of 10")
            }
        }
    }

    static func drive(_ standIn: TeacherStandIn, limits: RateLimiter<ContinuousClock>.Limits,
                      for duration: Duration) async throws -> Outcome {
        let options = TeacherClient<ContinuousClock>.Options(
            retry: RetryPolicy(base: .milliseconds(100), cap: .seconds(2)), limits: limits, maxConcurrent: 16)
        let client = try TeacherClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "t"), options: options,
                                       environment: [:])
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        // A probe beside the workers: how late do short sleeps wake (see `wakeLateness`)?
        let probe = Task {
            var late: [Duration] = []
            while clock.now < deadline {
                let t0 = clock.now
                try? await Task.sleep(for: .milliseconds(20))
                late.append(clock.now - t0 - .milliseconds(20))
            }
            return late.sorted()
        }
        let results = try await withThrowingTaskGroup(of: [ContinuousClock.Instant].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var finished: [ContinuousClock.Instant] = []
                    while clock.now < deadline {
                        _ = try await client.complete(ChatRequest(model: "", messages: [.user("q\(worker)-\(finished.count)")], maxTokens: 8))
                        finished.append(clock.now)
                    }
                    return finished
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let done = results.sorted()
        let late = await probe.value
        let seconds = (done.first.map { done[done.count - 1] - $0 } ?? .zero) / .seconds(1)
        return Outcome(ok: done.count, rateLimited: standIn.rateLimitedCount, requests: standIn.requestCount,
                       seconds: seconds, wakeLateness: late.isEmpty ? .zero : late[late.count * 9 / 10])
    }

    @Test(.timeLimit(.minutes(3)))
    func learnsA600RPMLimitFromHeadersAndRunsAtIt() async throws {
        let standIn = try TeacherStandIn(rpm: 600) { _ in .chat("ok") }
        defer { standIn.stop() }
        let o = try await Self.drive(standIn, limits: .init(), for: .seconds(20))
        o.expectNearLimit()
        #expect(Double(o.rateLimited) < 0.01 * Double(o.requests), "\(o.rateLimited) 429s in \(o.requests)")
    }

    @Test(.timeLimit(.minutes(3)))
    func configured600RPMNeverOvershootsASlidingWindow() async throws {
        let standIn = try TeacherStandIn(rpm: 100, window: .seconds(10)) { _ in .chat("ok") }
        defer { standIn.stop() }
        let o = try await Self.drive(standIn, limits: .init(requestsPerMinute: 600, burstSeconds: 0.1), for: .seconds(20))
        o.expectNearLimit()
        #expect(Double(o.rateLimited) < 0.01 * Double(o.requests), "\(o.rateLimited) 429s in \(o.requests)")
    }
}
