import Foundation

/// A condition a test waited for did not come true in time (the test fails instead of hanging).
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    public var description: String { "waited \(seconds) s for \(what); it never happened" }
}

/// Polls `condition` every `interval` until it holds, or throws `DeadlineExceeded` after `seconds`:
/// every polling loop in the tests has a deadline, so a regression fails the test rather than hanging the suite.
public func eventually(_ what: String, within seconds: Double = 60, every interval: Duration = .milliseconds(10),
                       _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !(try condition()) {
        guard Date() < deadline else { throw DeadlineExceeded(what: what, seconds: seconds) }
        try await Task.sleep(for: interval)
    }
}
