import Foundation
import Synchronization

/// Progress for long jobs, on stderr only (stdout stays clean for data and pipes).
///
/// On a terminal it keeps one line updated in place (`\r` + clear-to-end), fitted to the terminal's width (a line
/// that wraps cannot be redrawn and fills the screen with stale copies); otherwise (CI logs, files) it prints a
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
    /// Terminal width the updating line is fitted to.
    private let columns: Int
    private let clock: @Sendable () -> Double
    private let sink: @Sendable (String) -> Void

    /// A reporter writing to stderr. `interval`: seconds between plain lines when stderr is not a terminal.
    /// `DISTILL_PROGRESS=redraw` in the environment asks for the terminal's redrawn line on any stderr (`distill run`
    /// sets it for its stages, so it sees every update and shows them in its own progress line).
    public convenience init(interval: Double = 10) {
        let redraw = isatty(STDERR_FILENO) == 1 || ProcessInfo.processInfo.environment[Self.redrawVariable] == "redraw"
        self.init(interval: interval, isTerminal: redraw, columns: Self.terminalColumns(),
                  clock: { ProcessInfo.processInfo.systemUptime },
                  sink: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// For tests: choose the mode, the clock and where text goes.
    init(interval: Double, isTerminal: Bool, columns: Int = 80, clock: @escaping @Sendable () -> Double,
         sink: @escaping @Sendable (String) -> Void) {
        self.interval = interval
        self.columns = max(20, columns)
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
                return "\r\u{1B}[2K" + Self.fit(line, columns: columns - 1)
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
            return isTerminal ? "\r\u{1B}[2K" + Self.fit(line, columns: columns - 1) + "\n" : line + "\n"
        }
        if let out { sink(out) }
    }

    /// The environment variable that forces the redrawn line (`DISTILL_PROGRESS=redraw`).
    public static let redrawVariable = "DISTILL_PROGRESS"

    /// The width of the terminal on stderr ($COLUMNS, else 80, when it cannot be asked).
    public static func terminalColumns() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }

    /// `line` in at most `columns` display columns (CJK and emoji count two). A line of ` · `-separated parts loses
    /// whole parts first — the ones just before the last two, so a label with counts and the closing figures (cost,
    /// ETA) stay — and is cut with "…" only if it is still too wide.
    public static func fit(_ line: String, columns: Int) -> String {
        guard width(line) > columns else { return line }
        var parts = line.components(separatedBy: " · ")
        while parts.count > 3, width(parts.joined(separator: " · ")) > columns { parts.remove(at: parts.count - 3) }
        var out = parts.joined(separator: " · ")
        guard width(out) > columns else { return out }
        var cut = ""
        var used = 0
        for ch in out {
            let w = width(String(ch))
            if used + w > columns - 1 { break }
            cut.append(ch)
            used += w
        }
        out = cut + "…"
        return out
    }

    /// Display columns of `text`: two for East Asian wide characters and emoji, one otherwise.
    public static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { sum, s in
            let v = s.value
            if v < 0x300 { return sum + 1 }
            if (0x300...0x36F).contains(v) || (0xFE00...0xFE0F).contains(v) || v == 0x200D { return sum }
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
            return sum + (wide ? 2 : 1)
        }
    }
}
