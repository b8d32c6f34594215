import Synchronization

/// A clock whose sleeps return at once and move its time forward, recording every wait.
///
/// Tests of retry and rate-limit timing run on it without sleeping, and assert the exact waits.
public final class VirtualClock: Clock, @unchecked Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration
        public func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct State {
        var now = Instant(offset: .zero)
        public var sleeps: [Duration] = []
    }

    private let state = Mutex(State())
    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }
    /// Every wait asked for, in order.
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }
    public var elapsed: Duration { now.offset }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        state.withLock { s in
            let wait = max(.zero, s.now.duration(to: deadline))
            s.sleeps.append(wait)
            if deadline > s.now { s.now = deadline }
        }
        await Task.yield()
    }

    /// Moves time forward without a sleep (time passing while requests are in flight).
    public func advance(by d: Duration) { state.withLock { $0.now = $0.now.advanced(by: d) } }
}
