@testable import DistillClient
import Synchronization

/// Collects a TeacherClient's events for assertions.
final class EventLog: Sendable {
    private let events = Mutex<[TeacherEvent]>([])
    var all: [TeacherEvent] { events.withLock { $0 } }
    var record: @Sendable (TeacherEvent) -> Void { { [self] e in events.withLock { $0.append(e) } } }
    var retries: Int { all.filter { if case .retrying = $0 { true } else { false } }.count }
    var retryReasons: [String] { all.compactMap { if case .retrying(_, _, let r) = $0 { r } else { nil } } }
    var parks: [Duration] { all.compactMap { if case .parked(let d, _) = $0 { d } else { nil } } }
    var cooldowns: [Duration] { all.compactMap { if case .rateLimited(let d) = $0 { d } else { nil } } }
}
