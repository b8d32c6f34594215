import Foundation
import Synchronization

/// Progress for long jobs, on stderr only (stdout stays clean for data and pipes).
///
/// On a terminal it keeps one line updated in place (`\r` + clear-to-end); otherwise (CI logs, files) it prints a
/// plain line at most every `interval` seconds, so logs stay readable. `finish` always prints its line.
public final class ProgressReporter: Sendable {
    private struct State {
        var lastPrint: Double = -Double.infinity
        var lastLine = ""
        var finished = false
    }

    private let state = Mutex(State())
    private let isTerminal: Bool
    private let interval: Double
    private let clock: @Sendable () -> Double
    private let sink: @Sendable (String) -> Void

    /// A reporter writing to stderr. `interval`: seconds between plain lines when stderr is not a terminal.
    public convenience init(interval: Double = 10) {
        self.init(interval: interval, isTerminal: isatty(STDERR_FILENO) == 1,
                  clock: { ProcessInfo.processInfo.systemUptime },
                  sink: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// For tests: choose the mode, the clock and where text goes.
    init(interval: Double, isTerminal: Bool, clock: @escaping @Sendable () -> Double,
         sink: @escaping @Sendable (String) -> Void) {
        self.interval = interval
        self.isTerminal = isTerminal
        self.clock = clock
        self.sink = sink
    }

    /// Shows `line` as the current state of the job.
    public func update(_ line: String) {
        let now = clock()
        let out: String? = state.withLock { s in
            guard !s.finished else { return nil }
            if isTerminal {
                // Redrawing faster than ~20 Hz only costs CPU; the eye cannot follow it.
                guard now - s.lastPrint >= 0.05 || s.lastLine.isEmpty else { return nil }
                s.lastPrint = now
                s.lastLine = line
                return "\r\u{1B}[2K" + line
            }
            guard now - s.lastPrint >= interval else { return nil }
            s.lastPrint = now
            s.lastLine = line
            return line + "\n"
        }
        if let out { sink(out) }
    }

    /// Removes the updating line on a terminal (nothing otherwise), so ordinary output can follow; later updates
    /// start a new line.
    public func clear() {
        let out: String? = state.withLock { s in
            guard isTerminal, !s.finished, !s.lastLine.isEmpty else { return nil }
            s.lastLine = ""
            return "\r\u{1B}[2K"
        }
        if let out { sink(out) }
    }

    /// Prints the final line (always) and ends the updating line on a terminal.
    public func finish(_ line: String) {
        let out: String? = state.withLock { s in
            guard !s.finished else { return nil }
            s.finished = true
            return isTerminal ? "\r\u{1B}[2K" + line + "\n" : line + "\n"
        }
        if let out { sink(out) }
    }
}
