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
    }

    struct State: Codable {
        var stages: [String: StageRecord] = [:]
    }

    var plan: PipelinePlan
    let options: Options
    let say: (String) -> Void

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
        var upstream: [String: String] = [:]
        var services = ServiceSet(plan: plan, say: say)
        defer { services.stopAll() }
        ChildProcess.installSignalRelay()
        var summary: [(name: String, outcome: String)] = []
        var exit: Int32 = 0
        for (i, stage) in file.stages.enumerated() {
            let tag = "[\(i + 1)/\(n)] \(stage.name)"
            let values = try plan.fingerprintInputs(stage, upstream: upstream)
            let fingerprint = PipelinePlan.fingerprint(values)
            let old = state.stages[stage.name]
            guard selected.contains(i) else {
                guard let old, old.status == "done" else {
                    if selected.map({ file.stages[$0] }).contains(where: { plan.references(of: $0).contains(stage.name) }) {
                        throw UsageError("stage '\(stage.name)' has not finished, and a selected stage uses its output; "
                            + "run it first (drop --from/--only)")
                    }
                    summary.append((stage.name, "not selected"))
                    continue
                }
                upstream[stage.name] = old.fingerprint
                summary.append((stage.name, "not selected (done earlier)"))
                continue
            }
            if let old, old.status == "done", old.fingerprint == fingerprint {
                say("\(tag): unchanged, skipped")
                upstream[stage.name] = fingerprint
                summary.append((stage.name, "skipped (unchanged)"))
                continue
            }
            let changes = old.map { RunDifferences.values($0.values, values, label: "") } ?? []
            let resuming = old?.fingerprint == fingerprint
            let argv = try plan.arguments(words: stage.command, options: stage.options, args: stage.args,
                                          outPath: PipelinePlan.outputPath(for: stage, in: plan.out), line: stage.line,
                                          what: "stage '\(stage.name)'", symbolic: false)
            if resuming {
                say("\(tag): resuming (the last run stopped before it finished)")
            } else if old != nil {
                say("\(tag): changed, re-running —\n    " + changes.map { $0.trimmingCharacters(in: .whitespaces) }
                    .joined(separator: "\n    "))
            } else {
                say("\(tag): new")
            }
            say("    distill " + Redaction.maskingURLPasswords(argv.joined(separator: " ")))
            upstream[stage.name] = fingerprint
            if options.dryRun {
                summary.append((stage.name, "would run"))
                if stage.command == ["harvest"] {
                    let p = try ChildProcess.start(argv + ["--dry-run"])
                    _ = await ChildProcess.wait(p)
                }
                continue
            }
            if !resuming { try moveAsideOldOutput(stage) }
            var pids: [pid_t] = []
            for name in stage.needs { pids.append(try await services.start(name)) }
            state.stages[stage.name] = StageRecord(fingerprint: fingerprint, values: values, status: "running", seconds: nil)
            try saveState(state)
            let started = Date()
            let child = try ChildProcess.start(argv)
            ChildProcess.setRelayTargets([child.processIdentifier] + pids)
            let status = await ChildProcess.wait(child)
            plan.hashes.clear()
            ChildProcess.setRelayTargets(pids)
            let seconds = Date().timeIntervalSince(started)
            if status == 0 && !ChildProcess.interrupted {
                state.stages[stage.name] = StageRecord(fingerprint: fingerprint, values: values, status: "done", seconds: seconds)
                try saveState(state)
                say("\(tag): done in \(Self.duration(seconds))")
                summary.append((stage.name, "ran (\(Self.duration(seconds)))"))
                continue
            }
            let stopped = ChildProcess.interrupted || status == 130 || status == 128 + SIGINT || status == 128 + SIGTERM
            state.stages[stage.name]?.status = stopped ? "running" : "failed"
            try saveState(state)
            say("\(tag): " + (stopped ? "stopped; run the same command again to resume"
                                       : "failed (exit \(status)); fix it and run the same command again"))
            summary.append((stage.name, stopped ? "stopped" : "FAILED"))
            exit = stopped ? 130 : 1
            break
        }
        say("pipeline \(plan.out):")
        for s in summary { say("  \(s.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(s.outcome)") }
        return exit
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
