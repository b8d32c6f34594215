import DistillData
import DistillML
import Foundation

/// `distill train`'s options, checked; `fingerprinted` is what goes into the run's manifest.
struct TrainOptions: Sendable {
    enum Export: String, CaseIterable, Sendable {
        case peft, ggufF32 = "gguf-f32", ggufF16 = "gguf-f16", ggufQ8 = "gguf-q8_0", ggufQ4_0 = "gguf-q4_0",
             ggufQ4_1 = "gguf-q4_1", hf, ggufLoRA = "gguf-lora"
    }

    var model: String
    var data: [String]
    var out: String
    var full: Bool
    var loraRank: Int
    var loraAlpha: Double
    var loraDropout: Double
    /// PEFT module names (q_proj, …), in the canonical order.
    var loraTargets: [String]
    var lr: Double
    var epochs: Int
    var batch: Int
    var gradAccum: Int
    var maxSeq: Int
    var dropLong: Bool
    var pack: Bool
    var warmup: Int
    var schedule: LearningRateSchedule.Kind
    var weightDecay: Double
    var clip: Double
    var valSplit: Double
    var evalEvery: Int
    var saveEvery: Int
    var seed: UInt64
    var exports: [Export]
    /// Export the best weights (lowest eval loss, `best.ckpt`) instead of the last.
    var exportBest: Bool
    /// `--new`: move an earlier, different run in `out` aside and start over.
    var startNew: Bool
    /// Recompute attention probabilities in the backward pass (memory for time; bitwise the same gradients).
    var recomputeAttention: Bool
    /// `--recompute layers`: keep each layer's input only and recompute the layer in the backward pass (same bits).
    var recomputeLayers: Bool
    /// `--base-precision q`: QLoRA, the frozen projections kept in the GGUF's 4/8-bit blocks.
    var quantizedBase: Bool
    var threads: Int
    /// `--loss` and its weights (TrainObjective.swift).
    var objective: TrainObjective

    static let targetOrder = ["q", "k", "v", "o", "gate", "up", "down"]

    init(_ args: ParsedArguments) throws {
        model = args[TrainCommand.model]
        data = args[TrainCommand.data]
        guard !data.isEmpty else { throw UsageError("missing required option '--data' (one or more training files)") }
        out = try args.required(TrainCommand.out)
        guard !(args[TrainCommand.lora] && args[TrainCommand.full]) else { throw UsageError("choose one of --lora and --full") }
        full = args[TrainCommand.full]
        loraRank = args[TrainCommand.loraR]
        loraAlpha = args[TrainCommand.loraAlpha]
        loraDropout = args[TrainCommand.loraDropout]
        let names = args[TrainCommand.loraTargets].flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        var short = Set<String>()
        for n in names where !n.isEmpty {
            let s = n.hasSuffix("_proj") ? String(n.dropLast(5)) : n
            if s == "all" { short.formUnion(Self.targetOrder); continue }
            guard Self.targetOrder.contains(s) else {
                throw UsageError("--lora-targets: '\(n)' is not one of \(Self.targetOrder.joined(separator: ", ")) or all")
            }
            short.insert(s)
        }
        if short.isEmpty { short = Set(Self.targetOrder) }
        loraTargets = Self.targetOrder.filter { short.contains($0) }.map { $0 + "_proj" }
        lr = args[TrainCommand.lr] ?? (full ? 2e-5 : 2e-4)
        epochs = args[TrainCommand.epochs]
        batch = args[TrainCommand.batch]
        gradAccum = args[TrainCommand.gradAccum]
        maxSeq = args[TrainCommand.maxSeq]
        dropLong = args[TrainCommand.dropLong]
        pack = args[TrainCommand.pack]
        warmup = args[TrainCommand.warmup]
        schedule = args[TrainCommand.schedule]
        weightDecay = args[TrainCommand.weightDecay]
        clip = args[TrainCommand.clip]
        valSplit = args[TrainCommand.valSplit]
        evalEvery = args[TrainCommand.evalEvery]
        saveEvery = args[TrainCommand.saveEvery]
        let seedValue = args[TrainCommand.seed]
        threads = args[ModelOptions.threads]
        guard loraRank > 0, loraAlpha > 0, (0..<1).contains(loraDropout) else {
            throw UsageError("LoRA: --lora-r and --lora-alpha must be positive, 0 ≤ --lora-dropout < 1")
        }
        guard lr > 0, lr.isFinite, epochs > 0, batch > 0, gradAccum > 0, maxSeq >= 2, warmup >= 0 else {
            throw UsageError("--lr, --epochs, --batch and --grad-accum must be positive, --max-seq at least 2, --warmup ≥ 0")
        }
        guard weightDecay >= 0, clip >= 0, (0..<1).contains(valSplit), evalEvery > 0, saveEvery > 0, seedValue >= 0, threads > 0 else {
            throw UsageError("--weight-decay, --clip ≥ 0; 0 ≤ --val-split < 1; --eval-every, --save-every, --threads > 0; --seed ≥ 0")
        }
        seed = UInt64(seedValue)
        let exportNames = args[TrainCommand.export].flatMap { $0.split(separator: ",").map(String.init) }
        var exports: [Export] = []
        for n in exportNames {
            guard let e = Export(rawValue: n) else {
                throw UsageError("--export: '\(n)' is not one of \(Export.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !exports.contains(e) { exports.append(e) }
        }
        if exports.isEmpty { exports = full ? [.ggufQ8] : [.peft, .ggufQ8] }
        if full, exports.contains(.peft) { throw UsageError("--export peft needs a LoRA run (drop --full)") }
        if full, exports.contains(.ggufLoRA) { throw UsageError("--export gguf-lora needs a LoRA run (drop --full)") }
        self.exports = exports
        startNew = args[TrainCommand.new]
        recomputeAttention = args[TrainCommand.recomputeAttention]
        switch args[TrainCommand.basePrecision] {
        case "fp32": quantizedBase = false
        case "q": quantizedBase = true
        case let w: throw UsageError("--base-precision: '\(w)' is not q or fp32")
        }
        if quantizedBase && full { throw UsageError("--base-precision q keeps the frozen base in 4/8-bit blocks: it needs a LoRA run (drop --full)") }
        recomputeLayers = RecomputeMode.layers(args[TrainCommand.recompute], quantizedBase: quantizedBase)
        switch args[TrainCommand.exportFrom] {
        case "last": exportBest = false
        case "best": exportBest = true
        case let w: throw UsageError("--export-from: '\(w)' is not last or best")
        }
        objective = try TrainObjective(args)
    }

    /// Every setting that changes the trained weights, as typed (exports, threads and progress are not among them).
    var fingerprinted: [String: String] {
        var p: [String: String] = [
            "mode": full ? "full" : "lora", "lr": "\(lr)", "epochs": "\(epochs)", "batch": "\(batch)",
            "grad_accum": "\(gradAccum)", "max_seq": "\(maxSeq)", "overlong": dropLong ? "drop" : "truncate",
            "pack": "\(pack)", "warmup": "\(warmup)", "schedule": schedule.rawValue, "weight_decay": "\(weightDecay)",
            "clip": "\(clip)", "val_split": "\(valSplit)", "seed": "\(seed)", "loss": "ce",
        ]
        if !full {
            p["lora_r"] = "\(loraRank)"
            p["lora_alpha"] = "\(loraAlpha)"
            p["lora_dropout"] = "\(loraDropout)"
            p["lora_targets"] = loraTargets.joined(separator: ",")
            if quantizedBase { p["base_precision"] = "q" }
        }
        p.merge(objective.fingerprinted) { _, new in new }
        return p
    }
}
