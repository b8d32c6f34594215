import Foundation
import Synchronization
import Testing
@testable import DistillData

@Suite struct ProgressReporterTests {
    final class Capture: Sendable {
        let text = Mutex("")
        let now = Mutex(0.0)
    }

    @Test func plainLinesAreThrottledAndFinishAlwaysPrints() {
        let c = Capture()
        let r = ProgressReporter(interval: 10, isTerminal: false, clock: { c.now.withLock { $0 } },
                                 sink: { s in c.text.withLock { $0 += s } })
        r.update("1/100")
        c.now.withLock { $0 = 5 }
        r.update("2/100")  // within 10 s: dropped
        c.now.withLock { $0 = 11 }
        r.update("3/100")
        r.finish("done 100/100")
        r.update("late")  // after finish: ignored
        #expect(c.text.withLock { $0 } == "1/100\n3/100\ndone 100/100\n")
    }

    @Test func terminalRedrawsOneLine() {
        let c = Capture()
        let r = ProgressReporter(interval: 10, isTerminal: true, clock: { c.now.withLock { $0 } },
                                 sink: { s in c.text.withLock { $0 += s } })
        r.update("a")
        c.now.withLock { $0 = 1 }
        r.update("b")
        r.clear()
        r.clear()  // nothing left to clear
        r.finish("c")
        #expect(c.text.withLock { $0 } == "\r\u{1B}[2Ka\r\u{1B}[2Kb\r\u{1B}[2K\r\u{1B}[2Kc\n")
    }
}
