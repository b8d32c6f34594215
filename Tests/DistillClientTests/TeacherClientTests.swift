import DistillHTTP
@testable import DistillClient
import DistillTestSupport
import Foundation
import Testing

/// The composed client against the stand-in over loopback: every retry class, Retry-After forms, quota, cancellation.
/// Waits run on a virtual clock, so a `retry-after: 30` is asserted as a 30 s wait without taking 30 s.
@Suite struct TeacherClientTests {
    static let question = ChatRequest(model: "", messages: [.user("为什么天空是蓝色的？")], maxTokens: 32)

    static func client(_ standIn: TeacherStandIn, clock: VirtualClock, events: EventLog,
                       timeouts: HTTPTimeouts? = nil) throws -> TeacherClient<VirtualClock> {
        let openAI = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "teacher"), http: try HTTPClient(),
                                  environment: [:], timeouts: timeouts)
        return TeacherClient(openAI: openAI, options: .init(retry: RetryPolicy(random: { 0.5 })), clock: clock,
                             onEvent: events.record)
    }

    /// Fails the first request with `failure`, answers the second.
    static func failOnce(_ failure: StandInReply) -> @Sendable (StandInRequest) async -> StandInReply {
        { $0.sequence == 1 ? failure : .chat("晴朗的天空是蓝色的。") }
    }

    /// Each transient failure, a phrase its retry reason must contain (so the right failure was seen), and the
    /// timeouts to use: generous unless the case is about a timeout (the suite may share two busy cores).
    static let relaxed = HTTPTimeouts(connect: .seconds(10), total: .seconds(60), idle: .seconds(30))
    static let transient: [(String, StandInReply, HTTPTimeouts)] = [
        ("HTTP 500", .error(status: 500, type: "server_error"), relaxed),
        ("HTTP 502", .raw(status: 502, body: Data("<html>bad gateway</html>".utf8)), relaxed),
        ("HTTP 503", .error(status: 503, type: "overloaded"), relaxed),
        ("HTTP 408", .error(status: 408, type: "timeout"), relaxed),
        ("HTTP 409", .error(status: 409, type: "conflict"), relaxed),
        ("HTTP 429", .error(status: 429, type: "requests", code: "rate_limit_exceeded"), relaxed),
        ("reset", .resetMidBody(.chat("cut short")), relaxed),
        ("Empty reply", .hangUp, relaxed),
        ("not a chat completion", .raw(status: 200, headers: [("Content-Type", "application/json")], body: Data("{\"id\": ".utf8)), relaxed),
        ("no data received", .delayed(.seconds(8), .chat("silent too long")),
         HTTPTimeouts(connect: .seconds(10), total: .seconds(60), idle: .seconds(2))),
        ("no data received", .trickle(bytes: 8, interval: .seconds(8), .chat("stalls after the first bytes")),
         HTTPTimeouts(connect: .seconds(10), total: .seconds(60), idle: .seconds(2))),
        ("timed out", .trickle(bytes: 4, interval: .milliseconds(200), .chat(String(repeating: "长", count: 100))),
         HTTPTimeouts(connect: .seconds(10), total: .seconds(2), idle: .seconds(30))),
    ]

    @Test(arguments: 0..<transient.count)
    func transientFailureIsRetriedThenSucceeds(_ index: Int) async throws {
        let (reason, failure, timeouts) = Self.transient[index]
        let standIn = try TeacherStandIn(handler: Self.failOnce(failure))
        defer { standIn.stop() }
        let clock = VirtualClock()
        let events = EventLog()
        let client = try Self.client(standIn, clock: clock, events: events, timeouts: timeouts)
        let response = try await client.complete(Self.question)
        #expect(response.choices.first?.message.content == "晴朗的天空是蓝色的。", "\(reason)")
        #expect(standIn.requestCount == 2, "\(reason)")
        #expect(events.retryReasons.count == 1, "\(reason)")
        #expect(events.retryReasons.first?.contains(reason) == true, "\(events.retryReasons) should mention \(reason)")
    }

    @Test(arguments: [400, 401, 403, 404, 422])
    func permanentErrorIsNotRetried(status: Int) async throws {
        let standIn = try TeacherStandIn { _ in .error(status: status, type: "invalid_request_error", message: "nope") }
        defer { standIn.stop() }
        let client = try Self.client(standIn, clock: VirtualClock(), events: EventLog())
        await #expect { try await client.complete(Self.question) } throws: { error in
            (error as? TeacherError)?.kind == .http(status: status)
        }
        #expect(standIn.requestCount == 1)
    }

    @Test func insufficientQuotaStopsTheRunAtOnce() async throws {
        let standIn = try TeacherStandIn { _ in
            .error(status: 429, type: "insufficient_quota", code: "insufficient_quota",
                   message: "You exceeded your current quota, please check your plan and billing details.",
                   headers: [("retry-after", "1")])
        }
        defer { standIn.stop() }
        let client = try Self.client(standIn, clock: VirtualClock(), events: EventLog())
        do {
            _ = try await client.complete(Self.question)
            Issue.record("expected insufficient_quota")
        } catch let e as TeacherError {
            #expect(e.isInsufficientQuota)
            #expect(e.description.contains("out of quota"))
        }
        #expect(standIn.requestCount == 1)
    }

    @Test func retryAfterMillisecondsIsHonoured() async throws {
        let standIn = try TeacherStandIn(handler: Self.failOnce(.error(status: 429, type: "requests",
            headers: [("retry-after-ms", "1500"), ("retry-after", "9")])))
        defer { standIn.stop() }
        let clock = VirtualClock()
        let events = EventLog()
        _ = try await Self.client(standIn, clock: clock, events: events).complete(Self.question)
        #expect(clock.sleeps.contains(.milliseconds(1500)))
        #expect(!clock.sleeps.contains(.seconds(9)))
        #expect(events.cooldowns == [.milliseconds(1500)])  // the pause applies to every request, not just this one
    }

    @Test func retryAfterSecondsIsHonoured() async throws {
        let standIn = try TeacherStandIn(handler: Self.failOnce(.error(status: 503, type: "overloaded",
                                                                       headers: [("Retry-After", "7")])))
        defer { standIn.stop() }
        let clock = VirtualClock()
        _ = try await Self.client(standIn, clock: clock, events: EventLog()).complete(Self.question)
        #expect(clock.sleeps == [.seconds(7)])
    }

    @Test func retryAfterHTTPDateIsHonoured() async throws {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        // The date is made when the reply is, so a slow test machine does not eat into the 30 s.
        let standIn = try TeacherStandIn { r in
            r.sequence == 1
                ? .error(status: 503, type: "overloaded", headers: [("Retry-After", f.string(from: Date().addingTimeInterval(30)))])
                : .chat("晴朗的天空是蓝色的。")
        }
        defer { standIn.stop() }
        let clock = VirtualClock()
        _ = try await Self.client(standIn, clock: clock, events: EventLog()).complete(Self.question)
        let wait = try #require(clock.sleeps.first) / .seconds(1)
        #expect(wait > 28 && wait <= 31, "HTTP-date 30 s ahead (whole seconds) gave \(wait) s")
    }

    @Test func waitPastTheCapParksInsteadOfFailing() async throws {
        let standIn = try TeacherStandIn { r in
            r.sequence <= 2 ? .error(status: 429, type: "requests", headers: [("retry-after", "600")]) : .chat("finally")
        }
        defer { standIn.stop() }
        let clock = VirtualClock()
        let events = EventLog()
        let openAI = OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "t"), http: try HTTPClient(), environment: [:])
        let client = TeacherClient(openAI: openAI,
                                   options: .init(retry: RetryPolicy(maxAttempts: 2, maxRetryAfter: .seconds(120))),
                                   clock: clock, onEvent: events.record)
        let r = try await client.complete(Self.question)
        #expect(r.choices.first?.message.content == "finally")
        #expect(events.parks == [.seconds(600), .seconds(600)])  // two parks, yet maxAttempts 2 was not used up
    }

    @Test func attemptsRunOutAfterMaxAttempts() async throws {
        let standIn = try TeacherStandIn { _ in .error(status: 500, type: "server_error") }
        defer { standIn.stop() }
        let clock = VirtualClock()
        let client = try Self.client(standIn, clock: clock, events: EventLog())
        await #expect { try await client.complete(Self.question) } throws: { error in
            (error as? TeacherError)?.attempts == 8
        }
        #expect(standIn.requestCount == 8)
        // Full jitter at U = 0.5 on base 1 s, cap 60 s.
        #expect(clock.sleeps == [0.5, 1, 2, 4, 8, 16, 30].map { .milliseconds(Int64($0 * 1000)) })
    }

    @Test func sameIdempotencyKeyOnEveryAttempt() async throws {
        let standIn = try TeacherStandIn { r in r.sequence < 3 ? .error(status: 500, type: "x") : .chat("ok") }
        defer { standIn.stop() }
        _ = try await Self.client(standIn, clock: VirtualClock(), events: EventLog()).complete(Self.question)
        let keys = standIn.requests.compactMap { $0.header("idempotency-key") }
        #expect(keys.count == 3 && Set(keys).count == 1)
        #expect(standIn.requests.map { $0.header("x-retry-count") } == [nil, "1", "2"])
    }

    @Test func trickledAnswerWithinTheIdleLimitSucceedsFirstTime() async throws {
        let standIn = try TeacherStandIn { _ in .trickle(bytes: 16, interval: .milliseconds(10), .chat("慢慢说，一点一点地。")) }
        defer { standIn.stop() }
        let events = EventLog()
        let client = try Self.client(standIn, clock: VirtualClock(), events: events,
                                     timeouts: HTTPTimeouts(connect: .seconds(10), total: .seconds(120), idle: .seconds(30)))
        let r = try await client.complete(Self.question)
        #expect(r.choices.first?.message.content == "慢慢说，一点一点地。")
        #expect(events.retries == 0)
    }

    @Test func cancellationMidTransferEndsPromptly() async throws {
        let standIn = try TeacherStandIn { _ in .delayed(.seconds(60), .chat("late")) }
        defer { standIn.stop() }
        let client = try TeacherClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "t"), environment: [:])
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await client.complete(Self.question) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.now - start < .seconds(30))  // far below the server's 60 s (loose: the suite shares 2 cores)
        #expect(standIn.requestCount == 1)
    }
}
