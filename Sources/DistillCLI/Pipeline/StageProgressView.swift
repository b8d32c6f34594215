import DistillData
import Foundation
import Synchronization

/// The pipeline's one progress line: `[3/9] train-multitask · <the stage's own progress> · overall ETA 4m10s`,
/// fitted to the terminal's width (the stage's part is shortened first, so the position and the ETA stay).
///
/// The running stage's stderr comes through a pipe: its progress updates become the middle part, its other lines
/// are printed above the progress line as they come.
final class StageProgressView: Sendable {
    private struct State {
        var tag = ""
        var stageLine = "starting"
        var started = 0.0
        var estimate: PipelineETA.Estimate = .unknown
        var later: [PipelineETA.Estimate] = []
    }

    private let state = Mutex(State())
    private let reporter: ProgressReporter
    let columns: Int

    init() {
        reporter = ProgressReporter(interval: 10)
        columns = ProgressReporter.terminalColumns()
    }

    /// A new stage starts: its tag (`[3/9] train`), its own estimate and the estimates of the stages after it.
    func begin(tag: String, estimate: PipelineETA.Estimate, later: [PipelineETA.Estimate]) {
        state.withLock {
            $0 = State(tag: tag, stageLine: "starting", started: ProcessInfo.processInfo.systemUptime,
                       estimate: estimate, later: later)
        }
        redraw()
    }

    /// Feeds the stage's stderr to the view until it closes (call on a thread of its own: it blocks).
    func relay(_ handle: FileHandle) {
        var splitter = StageOutputSplitter()
        while true {
            let chunk = handle.availableData
            let events = chunk.isEmpty ? splitter.finish() : splitter.feed(chunk)
            for e in events {
                switch e {
                case .line(let text):
                    reporter.clear()
                    FileHandle.standardError.write(Data((text + "\n").utf8))
                case .progress(let text):
                    state.withLock { $0.stageLine = text }
                    redraw()
                }
            }
            if chunk.isEmpty { return }
        }
    }

    /// Passes the stage's stdout through whole lines at a time, the progress line removed first (so a table the
    /// stage prints is not drawn over it). Blocks until the stage's stdout closes.
    func relayOutput(_ handle: FileHandle) {
        var pending = Data()
        while true {
            let chunk = handle.availableData
            pending.append(chunk)
            let end = chunk.isEmpty ? pending.endIndex : (pending.lastIndex(of: 0x0A).map { pending.index(after: $0) } ?? pending.startIndex)
            if end > pending.startIndex {
                reporter.clear()
                FileHandle.standardOutput.write(pending[pending.startIndex..<end])
                pending.removeSubrange(pending.startIndex..<end)
            }
            if chunk.isEmpty { return }
        }
    }

    /// Removes the progress line so ordinary output can follow.
    func clear() { reporter.clear() }

    /// The current line, composed and fitted.
    func line() -> String {
        let s = state.withLock { $0 }
        let elapsed = ProcessInfo.processInfo.systemUptime - s.started
        let current = PipelineETA.current(stated: PipelineETA.stated(in: s.stageLine), estimate: s.estimate, elapsed: elapsed)
        return Self.compose(tag: s.tag, stage: s.stageLine, eta: PipelineETA.describe(current: current, later: s.later),
                            columns: columns - 1)
    }

    private func redraw() { reporter.update(line()) }

    /// `tag · stage · eta` in at most `columns`: the stage's part is fitted to what the other two leave.
    static func compose(tag: String, stage: String, eta: String, columns: Int) -> String {
        let fixed = ProgressReporter.width(tag) + ProgressReporter.width(eta) + 6
        let room = columns - fixed
        guard room >= 8 else { return ProgressReporter.fit(tag + " · " + eta, columns: columns) }
        return tag + " · " + fitKeepingETA(stage, columns: room) + " · " + eta
    }

    /// A stage's line in `columns`, its own `ETA …` kept when the line has no ` · ` parts for `fit` to drop
    /// (generate's and train's lines): the text before it is shortened instead.
    static func fitKeepingETA(_ line: String, columns: Int) -> String {
        guard ProgressReporter.width(line) > columns, !line.contains(" · "),
              let r = line.range(of: " ETA ", options: .backwards) else { return ProgressReporter.fit(line, columns: columns) }
        let tail = String(line[r.lowerBound...])
        let room = columns - ProgressReporter.width(tail)
        guard room >= 8 else { return ProgressReporter.fit(line, columns: columns) }
        return ProgressReporter.fit(String(line[..<r.lowerBound]), columns: room) + tail
    }
}
