/// Something a `TeacherClient` did that a progress display or log wants to know. Never carries the API key.
public enum TeacherEvent: Sendable {
    /// An attempt failed and will be retried after `delay`. `attempt` is the 1-based attempt that failed.
    case retrying(attempt: Int, delay: Duration, reason: String)
    /// The server asked for a wait longer than the retry cap: the request is set aside for `delay`, not failed.
    case parked(delay: Duration, reason: String)
    /// A 429 arrived: dispatch pauses for everyone for `cooldown`.
    case rateLimited(cooldown: Duration)
    /// A request finished; usage as the server reported it.
    case completed(usage: ChatUsage?, latency: Duration, attempts: Int)
    /// A request failed for good.
    case failed(TeacherError)
}
