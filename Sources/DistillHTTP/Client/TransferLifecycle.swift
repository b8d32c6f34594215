/// The life of one transfer as seen by the caller's task and the driver thread, as a pure state machine.
///
/// The race it settles (after async-http-client's `TransactionCancelHandler`): task cancellation may arrive before the
/// transfer reaches the driver, while it runs, or after it finished. Each event returns what to do; the caller does it
/// outside the lock. The continuation is resumed exactly once.
struct TransferLifecycle<Continuation> {
    enum State {
        /// Created; the continuation is not stored yet.
        case initial
        /// Cancelled before the continuation was stored: `register` must fail at once.
        case cancelledEarly
        /// Waiting for the driver.
        case waiting(Continuation)
        case finished
    }

    enum RegisterAction {
        /// Hand the transfer to the driver.
        case submit
        /// Resume the continuation with a cancellation error, do not submit.
        case failCancelled(Continuation)
    }

    enum CancelAction {
        case none
        /// Ask the driver to abort the running transfer (it resumes the continuation).
        case abortTransfer
    }

    private(set) var state: State = .initial

    mutating func register(_ continuation: Continuation) -> RegisterAction {
        switch state {
        case .initial:
            state = .waiting(continuation)
            return .submit
        case .cancelledEarly:
            state = .finished
            return .failCancelled(continuation)
        case .waiting, .finished:
            preconditionFailure("a transfer registers once")
        }
    }

    mutating func cancel() -> CancelAction {
        switch state {
        case .initial:
            state = .cancelledEarly
            return .none
        case .waiting:
            return .abortTransfer
        case .cancelledEarly, .finished:
            return .none
        }
    }

    /// The driver has a result; returns the continuation to resume, or nil if it was already resumed.
    mutating func complete() -> Continuation? {
        guard case .waiting(let continuation) = state else { return nil }
        state = .finished
        return continuation
    }
}
