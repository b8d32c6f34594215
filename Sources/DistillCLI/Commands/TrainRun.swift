import DistillData
import DistillML
import Foundation
import Synchronization

/// One `distill train` run: manifest, data, model, the step loop with logging, eval, checkpoints and Ctrl-C,
/// then the loss curve and the exports.
struct TrainRun {
    let o: TrainOptions
    var checkpointPath: String { o.out + "/checkpoint.ckpt" }
    var bestPath: String { o.out + "/best.ckpt" }
    var logPath: String { o.out + "/train-log.jsonl" }

    init(_ options: TrainOptions) { o = options }

    /// Thrown after an interrupted run has saved its checkpoint: exit 1, with how to resume.
    struct Interrupted: Error, CustomStringConvertible {
        var step: Int, total: Int, out: String
        var description: String {
            "interrupted at step \(step)/\(total); the checkpoint is saved — run the same command to resume (--out \(out))"
        }
    }

    func run() async throws {
        try EngineCPU.check()
        Parallel.configureBLAS(threads: o.threads)
        if let core = OpenBLASCore.recommendedCoreType(environment: [:]) {
            let how = ProcessInfo.processInfo.environment["DISTILL_KEEP_BLAS"] == "1"
                ? "unset DISTILL_KEEP_BLAS to let distill switch" : "set OPENBLAS_CORETYPE=\(core) before starting distill"
            Self.note("train: OpenBLAS runs its \(OpenBLASCore.current) kernels; this CPU runs \(core) kernels, with faster "
                + "matrix products (\(how))")
        } else if OpenBLASCore.replacedCoreType != nil {
            Self.note("train: OpenBLAS kernels \(OpenBLASCore.summary)")
        }
        let progress = ProgressReporter(interval: 5)
        let modelPath = try ModelStore.resolve(o.model)
        for f in o.data where !FileManager.default.fileExists(atPath: f) { throw DataError(file: f, "no such file") }

        // Data first: a file with nothing to train on is refused before the model is loaded or anything written.
        let tokenizer = try ModelFiles.tokenizer(modelPath)
        var data = try Self.loadData(o, tokenizer: TrainingTokenizer(
            tokenizer: tokenizer, maxSequence: o.maxSeq, overlong: o.dropLong ? .drop : .truncate))
        guard !data.train.isEmpty else { throw DataError(file: o.data[0], "every item went to validation; lower --val-split") }

        let manifest = try TrainingManifest(data: o.data, modelFiles: try ModelFiles.contentFiles(modelPath),
                                            modelIsFolder: ModelFiles.isDirectory(modelPath), parameters: o.fingerprinted)
        let run = try RunDirectory.open(o.out, manifest: manifest, startNew: o.startNew)
        defer { run.close() }
        if let moved = run.movedAside { Self.note("train: the earlier run in \(o.out) was moved to \(moved)") }
        let resumed = run.resumed
        data = try Self.attachTeacherCache(data, o, studentTokenizer: tokenizer)

        let (base, frozen): (LlamaParameters, QuantizedLinears?) = o.quantizedBase
            ? try ModelFiles.loadQuantizedBase(modelPath) : (try ModelFiles.load(modelPath).parameters, nil)
        let student = try TrainEngine.makeModel(base: base, frozen: frozen, options: o)
        let model = try Self.objectiveModel(student, o, studentTokenizer: tokenizer)
        let plan = TrainingPlan(examples: data.train, epochs: o.epochs, batch: o.batch, gradientAccumulation: o.gradAccum,
                                maxSequence: o.maxSeq, pack: o.pack, seed: o.seed)
        let pad = Int32(tokenizer.paddingID ?? tokenizer.eosID ?? 0)
        let trainer = Trainer(model: model, plan: plan, examples: data.train, validation: data.validation, settings: .init(
            schedule: .init(peak: o.lr, warmupSteps: o.warmup, totalSteps: plan.totalSteps, kind: o.schedule),
            optimizer: .init(weightDecay: Float(o.weightDecay)), clip: o.clip, padID: pad))
        if resumed, FileManager.default.fileExists(atPath: checkpointPath) {
            try trainer.restore(try TrainingCheckpoint.read(checkpointPath), path: checkpointPath, fingerprint: run.manifest.fingerprint)
        }
        let log = try TrainLog(path: logPath, keepThrough: trainer.step)
        let dropped = data.dropped.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }
        Self.note("train: \(data.train.count) items (\(data.trainTargets) target tokens), \(data.validation.count) held out"
            + (dropped.isEmpty ? "" : "; dropped " + dropped.joined(separator: ", "))
            + (data.truncated > 0 ? "; \(data.truncated) truncated to \(o.maxSeq)" : "")
            + "; \(o.full ? "full" : "LoRA r \(o.loraRank)"), \(model.parameters.count) trainable, \(plan.totalSteps) steps"
            + (trainer.step > 0 ? "; resuming at step \(trainer.step)" : ""))

        let stop = TrainStopSignal()
        stop.install()
        defer { stop.remove() }
        let start = DispatchTime.now().uptimeNanoseconds
        let firstStep = trainer.step
        var tokens = 0
        var lastEval: Double? = trainer.bestEvalLoss
        while !trainer.isFinished {
            let r = try trainer.runStep()
            let terms = Self.termFields(model)
            tokens += r.tokens
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let rate = Double(tokens) / max(seconds, 1e-9)
            try log.append(["step": Double(r.step), "epoch": Double(r.epoch), "loss": r.loss, "lr": r.lr,
                            "grad_norm": r.gradNorm, "targets": Double(r.targets), "tokens": Double(r.tokens),
                            "tokens_per_s": (rate * 10).rounded() / 10],
                           extra: terms.keys.sorted().map { ($0, terms[$0] ?? 0) })
            if r.step % o.evalEvery == 0 || trainer.isFinished, let eval = try trainer.evaluate(batch: o.batch) {
                lastEval = eval
                try log.append(["step": Double(r.step), "eval_loss": eval])
                if trainer.bestEvalLoss.map({ eval < $0 }) ?? true {
                    trainer.bestEvalLoss = eval
                    trainer.bestStep = r.step
                    try trainer.checkpoint(fingerprint: run.manifest.fingerprint, withMoments: false).write(to: bestPath)
                }
            }
            let eta = Double(trainer.totalSteps - r.step) * seconds / Double(max(1, r.step - firstStep))
            progress.update(terms.isEmpty ? Self.progressLine(r, total: trainer.totalSteps, rate: rate, eta: eta, eval: lastEval)
                : Self.objectiveProgressLine(r, total: trainer.totalSteps, eta: eta, terms: terms, eval: lastEval))
            let interrupted = stop.requested
            if r.step % o.saveEvery == 0 || trainer.isFinished || interrupted {
                try trainer.checkpoint(fingerprint: run.manifest.fingerprint).write(to: checkpointPath)
            }
            if interrupted && !trainer.isFinished {
                progress.clear()
                throw Interrupted(step: r.step, total: trainer.totalSteps, out: o.out)
            }
        }
        if !FileManager.default.fileExists(atPath: checkpointPath) {
            try trainer.checkpoint(fingerprint: run.manifest.fingerprint).write(to: checkpointPath)
        }
        let curve = try TrainLog.curve(logPath)
        try AtomicFile.write(Data(LossCurveSVG.render(train: curve.train, eval: curve.eval, totalSteps: trainer.totalSteps,
                                                      title: "distill train — \(o.full ? "full" : "LoRA") on \(URL(fileURLWithPath: modelPath).lastPathComponent)").utf8),
                             to: o.out + "/loss.svg")
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        progress.finish(String(format: "train: %d steps done (%d this run, %@)", trainer.totalSteps, trainer.totalSteps - firstStep,
                               GenerateCommand.duration(seconds))
            + (curve.train.last.map { String(format: ", last loss %.4f", $0.loss) } ?? "")
            + (trainer.bestEvalLoss.map { String(format: ", best eval %.4f at step %d", $0, trainer.bestStep ?? 0) } ?? ""))
        if o.exportBest {
            guard FileManager.default.fileExists(atPath: bestPath) else {
                throw DataError(file: bestPath, "no best checkpoint (nothing was held out for eval); use --export-from last")
            }
            let best = try TrainingCheckpoint.read(bestPath)
            guard best.parameters.count == model.parameters.count else { throw DataError(file: bestPath, "holds other tensors than this run") }
            _ = best.parameters.withUnsafeBufferPointer { model.parameters.update(fromContentsOf: $0) }
            Self.note("train: exporting the best weights (eval loss \(best.header.bestEvalLoss.map { String(format: "%.4f", $0) } ?? "?") at step \(best.header.step))")
        }
        try Self.writePromptFormat(o)
        try TrainEngine.export(model: student, options: o, modelPath: modelPath)
    }

    /// A line on stderr (progress stays on its own line).
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `step 12/300 loss 2.3456 lr 2.00e-04 |g| 1.23 812 tok/s ETA 5m12s eval 2.3012` (≤ 80 columns).
    static func progressLine(_ r: Trainer.StepResult, total: Int, rate: Double, eta: Double, eval: Double?) -> String {
        var s = String(format: "step %d/%d loss %.4f lr %.2e |g| %.2f %.0f tok/s ETA %@", r.step, total, r.loss, r.lr,
                       r.gradNorm, rate, GenerateCommand.duration(eta))
        if let eval { s += String(format: " eval %.4f", eval) }
        return String(s.prefix(79))
    }
}

/// SIGINT / SIGTERM / SIGHUP during training (through the one `StopSignals`): the first asks the loop to checkpoint
/// after the step in progress and stop; a second exits at once (the last checkpoint on disk is whole: it is written
/// atomically).
final class TrainStopSignal: @unchecked Sendable {
    private let flag = Atomic<Int>(0)
    private let signals = StopSignals()

    var requested: Bool { flag.load(ordering: .relaxed) > 0 }

    func install() {
        signals.install { [self] sig in
            flag.store(1, ordering: .relaxed)
            FileHandle.standardError.write(Data(
                "\ndistill: \(StopSignals.name(sig)): stopping after this step and saving a checkpoint (again to quit now)\n".utf8))
        }
    }

    func remove() { signals.remove() }
}
