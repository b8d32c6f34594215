@testable import DistillCLI
import DistillData
import Foundation
import Testing

/// `distill run`'s progress view and summary: the stage output splitter, the overall ETA arithmetic, the fitted
/// line and the end-of-run table (the live view itself is exercised by every pipeline test).
struct PipelineProgressTests {
    // MARK: - Splitting a stage's stderr

    @Test func redrawnUpdatesBecomeProgressAndEverythingElseLines() {
        var s = StageOutputSplitter()
        let redraw = "\r\u{1B}[2K"
        var events = s.feed(Array("loading model\n\(redraw)step 1/4 ETA 3s".utf8))
        #expect(events == [.line("loading model"), .progress("step 1/4 ETA 3s")])
        // The next update replaces it; the final line (with its newline) is kept as a line.
        events = s.feed(Array("\(redraw)step 2/4 ETA 2s\(redraw)done 4/4 → 翻译 🐱\n".utf8))
        #expect(events == [.progress("step 2/4 ETA 2s"), .line("done 4/4 → 翻译 🐱")])
        // A bare clear shows nothing; a message after it is a line.
        #expect(s.feed(Array("\(redraw)warning: x\n".utf8)) == [.line("warning: x")])
    }

    @Test func piecesSplitAnywhereGiveTheSameEvents() {
        let text = Array("a\n\r\u{1B}[2Kgenerate: 3/9 items 你好\r\u{1B}[2Kgenerate: 9/9 in 2s 🐱\nbye\n".utf8)
        var whole = StageOutputSplitter()
        let expected = whole.feed(text) + whole.finish()
        #expect(expected.filter { if case .line = $0 { true } else { false } } == [.line("a"), .line("generate: 9/9 in 2s 🐱"), .line("bye")])
        for cut in 1..<text.count {
            var s = StageOutputSplitter()
            let events = s.feed(text[..<cut]) + s.feed(text[cut...]) + s.finish()
            // A piece may show an update early (or not at all), never a torn line or a torn character.
            #expect(events.filter { if case .line = $0 { true } else { false } } == expected.filter { if case .line = $0 { true } else { false } },
                    "cut at \(cut)")
            for case .progress(let p) in events { #expect(!p.contains("\u{FFFD}"), "cut at \(cut)") }
        }
        var tail = StageOutputSplitter()
        #expect(tail.feed(Array("no newline".utf8)).isEmpty)
        #expect(tail.finish() == [.line("no newline")])
    }

    // MARK: - ETA

    @Test func statedETAIsReadFromEveryCommandsProgressLine() {
        #expect(PipelineETA.stated(in: "step 12/300 loss 2.3456 lr 2.00e-04 |g| 1.23 812 tok/s ETA 5m12s eval 2.3") == 312)
        #expect(PipelineETA.stated(in: "answer 10/300 (3%) · ok 10 · $0.0010 → $0.0300 · ETA 1h02m") == 3720)
        #expect(PipelineETA.stated(in: "generate: 3/9 items, 40 tokens, 20.0 tok/s, ETA 12s") == 12)
        #expect(PipelineETA.stated(in: "generate: 0/9 items, 0 tokens, 0.0 tok/s, ETA …") == nil)
        #expect(PipelineETA.stated(in: "answer 0/3 · ETA ?") == nil)
        #expect(PipelineETA.stated(in: "judged 3/10") == nil)
    }

    @Test func laterStagesAreEstimatedFromWhatWasMeasured() {
        let measures = [PipelineETA.Measure(kind: "generate", units: 60, seconds: 30),
                        PipelineETA.Measure(kind: "generate", units: 20, seconds: 10),
                        PipelineETA.Measure(kind: "train lora", units: 100, seconds: 200)]
        // Skipped: nothing to wait for, whatever was measured.
        #expect(PipelineETA.estimate(kind: "generate", units: 40, skipped: true, lastRun: 99, measures: measures) == .seconds(0))
        // Its own last run wins over a rate.
        #expect(PipelineETA.estimate(kind: "generate", units: 40, skipped: false, lastRun: 7, measures: measures) == .seconds(7))
        // Rate of the same kind: (30 + 10) s / (60 + 20) items = 0.5 s per item.
        #expect(PipelineETA.estimate(kind: "generate", units: 40, skipped: false, lastRun: nil, measures: measures) == .seconds(20))
        #expect(PipelineETA.estimate(kind: "train lora", units: 300, skipped: false, lastRun: nil, measures: measures) == .seconds(600))
        // Never measured, or its input not written yet: unknown, not a guess.
        #expect(PipelineETA.estimate(kind: "train full", units: 300, skipped: false, lastRun: nil, measures: measures) == .unknown)
        #expect(PipelineETA.estimate(kind: "generate", units: nil, skipped: false, lastRun: nil, measures: measures) == .unknown)
    }

    @Test func overallETASaysUnknownHonestly() {
        // The running stage: its own stated ETA first, else its estimate less the time it has run.
        #expect(PipelineETA.current(stated: 40, estimate: .seconds(500), elapsed: 10) == .seconds(40))
        #expect(PipelineETA.current(stated: nil, estimate: .seconds(100), elapsed: 30) == .seconds(70))
        #expect(PipelineETA.current(stated: nil, estimate: .seconds(10), elapsed: 30) == .seconds(0))
        #expect(PipelineETA.current(stated: nil, estimate: .unknown, elapsed: 30) == .unknown)
        #expect(PipelineETA.describe(current: .seconds(70), later: [.seconds(0), .seconds(200)]) == "overall ETA 4m30s")
        #expect(PipelineETA.describe(current: .seconds(70), later: [.unknown, .seconds(200), .unknown])
            == "overall ETA ≥ 4m30s (2 stages not measured yet)")
        #expect(PipelineETA.describe(current: .unknown, later: []) == "overall ETA unknown")
        #expect(PipelineETA.describe(current: .unknown, later: [.unknown]) == "overall ETA unknown")
        // A stage about to end with the rest unmeasured is a lower bound, not "unknown" one moment and "≥" the next.
        #expect(PipelineETA.describe(current: .seconds(0), later: [.unknown]) == "overall ETA ≥ 0s (1 stage not measured yet)")
    }

    @Test func progressLineKeepsPositionAndETAWithinTheWidth() {
        let stage = "step 12/300 loss 2.3456 lr 2.00e-04 |g| 1.23 812 tok/s ETA 5m12s 训练中 🐱"
        for columns in [30, 40, 60, 80, 120] {
            let line = StageProgressView.compose(tag: "[3/9] train-multitask", stage: stage, eta: "overall ETA 4m30s",
                                                 columns: columns)
            #expect(ProgressReporter.width(line) <= columns, "\(columns): \(line)")
            #expect(line.hasPrefix("[3/9] train-multitask · "), "\(columns): \(line)")
            // Wide enough for the position and the ETA: the stage's own line is what gets shortened.
            if columns >= 60 { #expect(line.hasSuffix(" · overall ETA 4m30s"), "\(columns): \(line)") }
        }
        #expect(StageProgressView.compose(tag: "[1/2] a", stage: "x", eta: "overall ETA 1s", columns: 80) == "[1/2] a · x · overall ETA 1s")
        // A line without ` · ` parts keeps its own ETA; the text before it is shortened.
        let generate = "generate: 25/400 items, 602 tokens, 5123.4 tok/s, ETA 12s"
        let fitted = StageProgressView.fitKeepingETA(generate, columns: 40)
        #expect(fitted.hasSuffix(" ETA 12s") && fitted.hasPrefix("generate: 25/400") && ProgressReporter.width(fitted) <= 40, "\(fitted)")
        #expect(StageProgressView.fitKeepingETA(generate, columns: 80) == generate)
    }

    // MARK: - Summary

    @Test func summarySaysWhatRanWhatWasSkippedAndWhy() {
        var s = PipelineSummary()
        s.add("cot", "skipped", "unchanged", output: "runs/x/cot")
        s.add("train-multitask", "ran", PipelineSummary.changedKeys(old: ["--epochs": "1", "command": "train"],
                                                                     new: ["--epochs": "2", "command": "train"]),
              seconds: 41.2, output: "runs/x/train-multitask")
        s.add("生成", "ran", "new", seconds: 75, output: "runs/x/生成.jsonl")
        let lines = s.render(folder: "runs/x")
        #expect(lines[0] == "pipeline runs/x: 3 stages, 2 ran, 1 skipped · 1 min 56 s")
        // After a failed or stopped stage, the stages never reached are counted, not hidden.
        #expect(s.render(folder: "runs/x", stages: 5)[0] == "pipeline runs/x: 5 stages, 2 ran, 1 skipped, 2 not reached · 1 min 56 s")
        #expect(s.render(folder: "runs/x", stages: 5)[1].hasPrefix("  [1/5]  cot"))
        #expect(lines[1].hasPrefix("  [1/3]  cot") && lines[1].contains("skipped") && lines[1].contains("unchanged")
            && lines[1].hasSuffix("runs/x/cot"))
        #expect(lines[2].contains("ran") && lines[2].contains("changed: --epochs") && lines[2].contains("41.2 s"))
        #expect(lines[3].contains("1 min 15 s") && lines[3].hasSuffix("runs/x/生成.jsonl"))
        // Columns line up (display width, CJK counted twice): every output path starts in the same column.
        let starts = lines.dropFirst().map { l in ProgressReporter.width(String(l[..<(l.range(of: "runs/x/")?.lowerBound ?? l.endIndex)])) }
        #expect(Set(starts).count == 1, "\(lines)")
        #expect(PipelineSummary.changedKeys(old: ["file /a/b/data.jsonl": "1"], new: ["file /a/b/data.jsonl": "2"])
            == "changed: file data.jsonl")
    }
}
