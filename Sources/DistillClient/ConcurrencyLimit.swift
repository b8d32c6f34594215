import Synchronization

/// At most `limit` operations at once, first come first served; separate from rate limits (which pace starts).
public final class ConcurrencyLimit: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    public let limit: Int
    private let state: Mutex<State>

    public init(_ limit: Int) {
        self.limit = max(1, limit)
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `body` holding one slot. Waiting for the slot ends with `CancellationError` if the task is cancelled.
    public func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                enum Outcome { case admitted, queued, cancelled }
                // Decided under the lock, so a concurrent onCancel either finds the waiter queued or never sees it.
                let outcome = state.withLock { s -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if s.available > 0 && s.waiters.isEmpty {
                        s.available -= 1
                        return .admitted
                    }
                    s.waiters.append(Waiter(id: id, continuation: c))
                    return .queued
                }
                switch outcome {
                case .admitted: c.resume()
                case .cancelled: c.resume(throwing: CancellationError())
                case .queued: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { s -> Waiter? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.continuation.resume()
    }
}
