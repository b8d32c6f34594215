import DistillData
import DistillHTTP
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a pipeline's stages in order, each in its own run directory under the pipeline's folder: an unchanged
/// stage is skipped, a changed one re-runs (its old output moved aside) and says what changed, an interrupted one
/// resumes. `pipeline-state.json` records each stage's fingerprint and outcome.
struct PipelineRunner {
    struct Options {
        var from: String?
        var only: String?
        var dryRun = false
    }

    struct StageRecord: Codable, Equatable {
        var fingerprint: String
        var values: [String: String]
        /// "done", "failed" or "running" (interrupted).
        var status: String
        var seconds: Double?
        /// What the stage's duration scales with (for the ETA of later runs): its kind and units of work.
        var kind: String? = nil
        var units: Double? = nil
    }

    struct State: Codable {
        var stages: [String: StageRecord] = [:]
    }

    var plan: PipelinePlan
    let options: Options
    let say: (String) -> Void
    let view = StageProgressView()

    var statePath: String { plan.out + "/pipeline-state.json" }

    /// Returns the exit code: 0 when every stage is done, 130 after Ctrl-C, 1 after a failed stage.
    mutating func run() async throws -> Int32 {
        let file = plan.file
        let n = file.stages.count
        // Every stage's options are checked before anything runs: a typo in the last stage costs nothing.
        for s in file.stages {
            _ = try plan.arguments(words: s.command, options: s.options, args: s.args, outPath: "", line: s.line,
                                   what: "stage '\(s.name)'", symbolic: false)
        }
        for s in file.services {
            _ = try plan.arguments(words: s.command, options: s.options, args: [], outPath: nil, line: s.line,
                                   what: "service '\(s.name)'", symbolic: false)
        }
        let selected = try selection()
        var state = try loadState()
        let skips = try predictedSkips(state: state, selected: selected)
        var upstream: [String: String] = [:]
        let view = self.view, say = self.say
        var services = ServiceSet(plan: plan) { line in
            view.clear()
            say(line)
        }
        defer { services.stopAll() }
        ChildProcess.installSignalRelay()
        var summary = PipelineSummary()
        var exit: Int32 = 0
        for (i, stage) in file.stages.enumerated() {
            let tag = "[\(i + 1)/\(n)] \(stage.name)"
            let output = PipelinePlan.outputPath(for: stage, in: plan.out)
            let values = try plan.fingerprintInputs(stage, upstream: upstream)
            let fingerprint = PipelinePlan.fingerprint(values)
            let old = state.stages[stage.name]
            guard selected.contains(i) else {
                guard let old, old.status == "done" else {
                    if selected.map({ file.stages[$0] }).contains(where: { plan.references(of: $0).contains(stage.name) }) {
                        throw UsageError("stage '\(stage.name)' has not finished, and a selected stage uses its output; "
                            + "run it first (drop --from/--only)")
                    }
                    summary.add(stage.name, "not selected", "", output: output)
                    continue
                }
                upstream[stage.name] = old.fingerprint
                summary.add(stage.name, "not selected", "done earlier", seconds: nil, output: output)
                continue
            }
            if let old, old.status == "done", old.fingerprint == fingerprint {
                note("\(tag): unchanged, skipped")
                upstream[stage.name] = fingerprint
                summary.add(stage.name, "skipped", "unchanged", output: output)
                continue
            }
            let changes = old.map { RunDifferences.values($0.values, values, label: "") } ?? []
            let resuming = old?.fingerprint == fingerprint
            let reason = resuming ? "resumed" : old.map { PipelineSummary.changedKeys(old: $0.values, new: values) } ?? "new"
            let argv = try plan.arguments(words: stage.command, options: stage.options, args: stage.args,
                                          outPath: output, line: stage.line, what: "stage '\(stage.name)'", symbolic: false)
            if resuming {
                note("\(tag): resuming (the last run stopped before it finished)")
            } else if old != nil {
                note("\(tag): changed, re-running —\n    " + changes.map { $0.trimmingCharacters(in: .whitespaces) }
                    .joined(separator: "\n    "))
            } else {
                note("\(tag): new")
            }
            note("    distill " + Redaction.maskingURLPasswords(argv.joined(separator: " ")))
            upstream[stage.name] = fingerprint
            if options.dryRun {
                summary.add(stage.name, "would run", reason, output: output)
                if stage.command == ["harvest"] {
                    let p = try ChildProcess.start(argv + ["--dry-run"])
                    _ = await ChildProcess.wait(p)
                }
                continue
            }
            if !resuming { try moveAsideOldOutput(stage) }
            var pids: [pid_t] = []
            for name in stage.needs { pids.append(try await services.start(name)) }
            let work = plan.work(of: stage)
            state.stages[stage.name] = StageRecord(fingerprint: fingerprint, values: values, status: "running", seconds: nil,
                                                   kind: work.kind, units: work.units)
            try saveState(state)
            let estimates = self.estimates(state: state, skips: skips, selected: selected, from: i, lastRun: old?.seconds)
            view.begin(tag: tag, estimate: estimates.first ?? .unknown, later: Array(estimates.dropFirst()))
            let started = Date()
            let status = try await runStage(argv, services: pids)
            plan.hashes.clear()
            let seconds = Date().timeIntervalSince(started)
            if status == 0 && !ChildProcess.interrupted {
                state.stages[stage.name]?.status = "done"
                state.stages[stage.name]?.seconds = seconds
                try saveState(state)
                note("\(tag): done in \(Self.duration(seconds))")
                summary.add(stage.name, "ran", reason, seconds: seconds, output: output)
                continue
            }
            let stopped = ChildProcess.interrupted || status == 130 || status == 128 + SIGINT || status == 128 + SIGTERM
                || status == 128 + SIGHUP
            state.stages[stage.name]?.status = stopped ? "running" : "failed"
            try saveState(state)
            note("\(tag): " + (stopped ? "stopped; run the same command again to resume"
                                        : "failed (exit \(status)); fix it and run the same command again"))
            summary.add(stage.name, stopped ? "stopped" : "FAILED", reason, seconds: seconds, output: output)
            exit = stopped ? 130 : 1
            break
        }
        for line in summary.render(folder: plan.out, stages: n) { note(line) }
        return exit
    }

    /// Runs one stage's process, its stderr relayed through the progress view; returns its exit status.
    private func runStage(_ argv: [String], services pids: [pid_t]) async throws -> Int32 {
        let errors = Pipe(), output = Pipe()
        // Wide: the stage's line arrives whole (its ETA readable); the view fits it to the terminal.
        let child = try ChildProcess.start(argv, stdout: output.fileHandleForWriting, stderr: errors.fileHandleForWriting,
                                           environment: [ProgressReporter.redrawVariable: "redraw", "COLUMNS": "400"])
        try? errors.fileHandleForWriting.close()
        try? output.fileHandleForWriting.close()
        ChildProcess.setRelayTargets([child.processIdentifier] + pids)
        let view = self.view
        let (errorReader, outputReader) = (errors.fileHandleForReading, output.fileHandleForReading)
        // The stage's stdout and stderr close when it exits; the relays end there.
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                let done = DispatchSemaphore(value: 0)
                Thread.detachNewThread {
                    view.relayOutput(outputReader)
                    done.signal()
                }
                view.relay(errorReader)
                done.wait()
                c.resume()
            }
        }
        let status = await ChildProcess.wait(child)
        ChildProcess.setRelayTargets(pids)
        view.clear()
        return status
    }

    /// Which selected stages will be skipped as unchanged: the loop's fingerprints, computed ahead (a stage's
    /// fingerprint depends on its upstream stages' fingerprints, never on their outputs, so this is exact).
    private func predictedSkips(state: State, selected: [Int]) throws -> Set<Int> {
        var upstream: [String: String] = [:]
        var skips = Set<Int>()
        for (i, stage) in plan.file.stages.enumerated() {
            let old = state.stages[stage.name]
            guard selected.contains(i) else {
                if let old, old.status == "done" { upstream[stage.name] = old.fingerprint }
                continue
            }
            let fingerprint = PipelinePlan.fingerprint(try plan.fingerprintInputs(stage, upstream: upstream))
            upstream[stage.name] = fingerprint
            if let old, old.status == "done", old.fingerprint == fingerprint { skips.insert(i) }
        }
        return skips
    }

    /// Estimates for stage `from` (its own last run's duration as `lastRun`) and every stage after it.
    private func estimates(state: State, skips: Set<Int>, selected: [Int], from: Int, lastRun: Double?) -> [PipelineETA.Estimate] {
        let measures = state.stages.values.compactMap { r -> PipelineETA.Measure? in
            guard r.status == "done", let kind = r.kind, let units = r.units, let s = r.seconds else { return nil }
            return PipelineETA.Measure(kind: kind, units: units, seconds: s)
        }.sorted { ($0.kind, $0.units, $0.seconds) < ($1.kind, $1.units, $1.seconds) }
        let stages = plan.file.stages
        return (from..<stages.count).map { j in
            let work = plan.work(of: stages[j])
            let previous = j == from ? lastRun : state.stages[stages[j].name]?.seconds
            return PipelineETA.estimate(kind: work.kind, units: work.units, skipped: skips.contains(j) || !selected.contains(j),
                                        lastRun: previous, measures: measures)
        }
    }

    /// A line of the pipeline's own output, above the progress line.
    private func note(_ line: String) {
        view.clear()
        say(line)
    }

    /// The stage indices this invocation may run.
    private func selection() throws -> [Int] {
        let names = plan.file.stages.map(\.name)
        if let only = options.only {
            guard let i = names.firstIndex(of: only) else {
                throw UsageError("--only \(only): no such stage (stages: \(names.joined(separator: ", ")))")
            }
            return [i]
        }
        if let from = options.from {
            guard let i = names.firstIndex(of: from) else {
                throw UsageError("--from \(from): no such stage (stages: \(names.joined(separator: ", ")))")
            }
            return Array(i..<names.count)
        }
        return Array(names.indices)
    }

    private func moveAsideOldOutput(_ stage: PipelineFile.Stage) throws {
        let path = PipelinePlan.outputPath(for: stage, in: plan.out)
        var sidecars = [path]
        if stage.command == ["generate"] {
            // generate's run files sit beside its output (NAME.manifest.json, NAME.lock).
            let base = (path as NSString).deletingPathExtension
            sidecars += [base + ".manifest.json"]
        }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        for p in sidecars where FileManager.default.fileExists(atPath: p) {
            let target = p + ".replaced-" + stamp
            guard rename(p, target) == 0 else {
                throw DataError(file: p, "cannot move the old output aside: \(String(cString: strerror(errno)))")
            }
            say("    old output kept at \(target)")
        }
    }

    private func loadState() throws -> State {
        guard let data = FileManager.default.contents(atPath: statePath) else { return State() }
        do {
            return try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw DataError(file: statePath, "not a pipeline state file (\(JSONLines.describe(error))); "
                + "move it away to start the pipeline's bookkeeping over")
        }
    }

    private func saveState(_ state: State) throws {
        let e = JSONLines.encoder
        e.outputFormatting.insert(.prettyPrinted)
        try JSONLines.writeAtomically(try e.encode(state), to: statePath)
    }

    static func duration(_ s: Double) -> String {
        s < 60 ? String(format: "%.1f s", s) : String(format: "%d min %02d s", Int(s) / 60, Int(s) % 60)
    }
}
