import DistillData
import DistillML
import Foundation

/// `distill bench train`: training tokens/s of LoRA and full fine-tuning on the embedded model, beside PyTorch
/// (torch_bench.py, same shape, same invocation) and OpenBLAS's own sgemm rate.
struct BenchTrainCommand: DistillCommand {
    static let batch: Option<Int> = .value("batch", "N", default: 4, help: "rows per step")
    static let seq: Option<Int> = .value("seq", "N", default: 256, help: "tokens per row")
    static let steps: Option<Int> = .value("steps", "N", default: 3, help: "timed steps per mode")
    static let modes: Option<[String]> = .list("modes", "MODE", help: "qlora, lora, full, spaced or comma-separated (default: all three)")
    static let vs: Option<String?> = .value("vs", "PYTHON", help: "python with torch, transformers and peft: runs torch_bench.py lora|full in this run")
    static let recompute: Option<RecomputeMode?> = .value("recompute", "WHAT", help: "layers or none (default: as distill train, layers for qlora only)")
    static let anchors: Option<String> = .value("anchors", "DIR", default: "../shared/anchors", help: "folder holding torch_bench.py")

    static let spec = CommandSpec(
        name: "train",
        abstract: "training tokens/s (LoRA and full) vs PyTorch, same run",
        usage: "[--model M] [--batch 4] [--seq 256] [--steps 3] [--vs PYTHON] [options]",
        discussion: """
        Each mode does one untimed step (memory planned, caches warm), then --steps timed steps of forward, backward
        and AdamW on random tokens, as torch_bench.py does: tokens/s = batch × seq × steps / seconds. LoRA is r 16,
        alpha 32 on all seven projections; qlora is the same LoRA with the frozen projections kept in the GGUF's 4/8-bit
        blocks (--base-precision q). Peak RSS is the process's so far (modes run in the order qlora, lora, full). The matmul work of a
        step (4 × tokens × matrix parameters for LoRA, 6 × for full) over its time, beside OpenBLAS's sgemm alone on
        one of the step's shapes, says how close the step is to what the BLAS can do. Then --steps more steps with
        every kernel call timed say where the time goes (projections, attention, norms, head, AdamW). With --vs,
        torch_bench.py runs in this invocation (the anchor). Use a release build. On an AVX-512 CPU distill runs
        OpenBLAS's AVX-512 kernels even when the environment pins older ones (the first line says so);
        DISTILL_KEEP_BLAS=1 measures with the environment's.

        Examples:
          distill bench train
          distill bench train --vs /path/to/venv/bin/python
        """,
        options: [
            ModelOptions.model,
            batch,
            seq,
            steps,
            modes,
            vs,
            recompute,
            anchors,
        ],
        examples: """
              distill bench train --modes qlora
              distill bench train --batch 2 --seq 128 --steps 2
            """)

    let model: String
    let B: Int
    let T: Int
    let steps: Int
    let modes: [String]
    let python: String?
    let anchors: String
    let recompute: RecomputeMode?

    init(_ args: ParsedArguments) throws {
        model = args[ModelOptions.model]
        B = args[Self.batch]
        T = args[Self.seq]
        steps = args[Self.steps]
        // `--modes lora full` or `--modes lora,full`.
        let given = args[Self.modes].flatMap { $0.split(separator: ",").map(String.init) }
        let asked = given.isEmpty ? ["qlora", "lora", "full"] : given
        modes = ["qlora", "lora", "full"].filter(asked.contains)
        python = args[Self.vs]
        anchors = args[Self.anchors]
        recompute = args[Self.recompute]
        guard (1...64).contains(B), (2...4096).contains(T), (1...100).contains(steps) else {
            throw UsageError("--batch 1…64, --seq 2…4096, --steps 1…100")
        }
        for m in asked where !["qlora", "lora", "full"].contains(m) { throw UsageError("--modes takes qlora, lora and/or full, not '\(m)'") }
    }

    func run() async throws {
        try EngineCPU.check()
        let path = try ModelStore.resolve(model)
        BenchGenerateCommand.say("bench train: \(path), batch \(B) × \(T), \(steps) timed steps; OpenBLAS kernels "
            + "\(OpenBLASCore.summary), \(Parallel.threads) threads, load \(String(format: "%.1f", BenchGenerateCommand.loadAverage()))")
        let sgemm = OpenBLASCore.sgemmRate()
        BenchGenerateCommand.say(String(format: "  OpenBLAS sgemm alone (1024×576 · 576×1536): %.1f GFLOP/s", sgemm))
        for mode in modes {
            let (rate, gflops, breakdown) = try measure(mode: mode, path: path)
            BenchGenerateCommand.say(String(format: "  distill %@: %.1f tok/s, %.1f GFLOP/s in matmuls (%.0f%% of sgemm), peak RSS %.2f GB",
                                            mode, rate, gflops, 100 * gflops / sgemm, Self.peakRSSGB()))
            BenchGenerateCommand.say("    " + breakdown)
            guard let python, mode != "qlora" else { continue }
            let out = try await BenchGenerateCommand.anchor(python, anchors + "/torch_bench.py", [mode, "\(B)", "\(T)", path])
            let torch = BenchGenerateCommand.number(after: "tok/s=", in: out, line: "train tok/s")
            BenchGenerateCommand.say("  PyTorch \(mode) (torch_bench.py, same run): "
                + (torch.map { String(format: "%.1f tok/s → distill %.2f×", $0, rate / $0) } ?? "no figure:\n" + out)
                + String(format: ", peak RSS %.2f GB (the largest anchor process so far)", Self.peakRSSGB(RUSAGE_CHILDREN)))
        }
    }

    /// Tokens/s and matmul GFLOP/s of `steps` timed steps, and where a step's time goes (from `steps` more, each
    /// kernel call timed).
    func measure(mode: String, path: String) throws -> (Double, Double, String) {
        let (params, frozen): (LlamaParameters, QuantizedLinears?) = mode == "qlora"
            ? try ModelFiles.loadQuantizedBase(path) : (try ModelFiles.load(path).parameters, nil)
        let trainer = try TrainableLlama(base: params, mode: mode == "full" ? .full : .lora(LoRAConfiguration(rank: 16, alpha: 32)),
                                         frozen: frozen)
        trainer.recomputeLayers = RecomputeMode.layers(recompute, quantizedBase: mode == "qlora")
        let V = params.config.vocabSize
        var rng = SplitMix64(seed: 1)
        let tokens = (0..<(B * T)).map { _ in Int32(rng.next() % UInt64(V)) }
        let targets = (0..<(B * T)).map { i in i % T == T - 1 ? TrainingBatch.ignore : tokens[i + 1] }
        let batch = TrainingBatch(B: B, T: T, tokens: tokens, targets: targets, segments: [Int32](repeating: 0, count: B * T))
        let adamw = AdamW(parameterCount: trainer.parameters.count, settings: AdamW.Settings())
        let profile = TrainingProfile()
        func step() throws {
            profile.time(.optimizer) { trainer.zeroGradients() }
            _ = try trainer.accumulateGradients(batch, lossScale: 1 / Float(max(1, batch.targetCount)))
            profile.time(.optimizer) {
                adamw.update(trainer.tensors, parameters: trainer.parameters, gradients: trainer.gradients, lr: 1e-5)
            }
        }
        try step()
        // Timed twice: once bare (the figure), once with every kernel call timed (where the time goes).
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        profile.reset()
        trainer.profile = profile
        let profiledStart = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { try step() }
        let profiled = Double(DispatchTime.now().uptimeNanoseconds - profiledStart) / 1e9
        trainer.profile = nil
        let parts = TrainingProfile.Phase.allCases.map { phase in
            String(format: "%@ %.0f%%", phase.label, 100 * profile.seconds[phase.rawValue] / profiled)
        }
        let breakdown = String(format: "where the time goes (%.2f s a step%@): ", profiled / Double(steps),
                               trainer.recomputeLayers ? ", forward includes the layers recomputed in backward" : "")
            + parts.joined(separator: ", ") + String(format: ", untimed %.0f%%", 100 * (profiled - profile.total) / profiled)
        let c = params.config
        let perLayer = c.dim * c.qDim * 2 + 2 * c.dim * c.kvDim + 3 * c.dim * c.hiddenDim
        let matmulParams = Double(c.layers * perLayer + c.vocabSize * c.dim)
        let flops = Double(B * T * steps) * matmulParams * (mode == "full" ? 6 : 4)
        return (Double(B * T * steps) / seconds, flops / seconds / 1e9, breakdown)
    }

    /// Peak resident memory of this process (`RUSAGE_SELF`) or of the largest child it has waited for
    /// (`RUSAGE_CHILDREN`), in GB.
    static func peakRSSGB(_ who: __rusage_who = RUSAGE_SELF) -> Double {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        return Double(usage.ru_maxrss) * 1024 / 1e9
    }
}
