import DistillData
import Foundation
import Testing
@testable import DistillML

/// One training step of SmolLM2-135M at batch 4 × 256 (torch_bench.py's shape), LoRA (r 16, all seven) and full,
/// timed by phase. Opt-in (DISTILL_TRAIN_TIMING=1): it takes tens of seconds, and `distill bench train` is the
/// real benchmark.
@Suite(.serialized) struct TrainingTimingTests {
    static let enabled = ProcessInfo.processInfo.environment["DISTILL_TRAIN_TIMING"] == "1" && ModelFixtures.hasSmolLM2

    @Test(.enabled(if: enabled), arguments: ["lora", "full"])
    func smolLM2Step(mode: String) throws {
        let params = try LlamaParameters(gguf: GGUFFile(path: try #require(ModelFixtures.smolLM2Path)))
        let trainer = try TrainableLlama(base: params, mode: mode == "full" ? .full : .lora(LoRAConfiguration(rank: 16, alpha: 32)))
        let B = Int(ProcessInfo.processInfo.environment["DISTILL_TRAIN_TIMING_B"] ?? "") ?? 4, T = 256
        var rng = SplitMix64(seed: 1)
        let tokens = (0..<(B * T)).map { _ in Int32(rng.next() % 49152) }
        let targets = (0..<(B * T)).map { i in i % T == T - 1 ? TrainingBatch.ignore : tokens[i + 1] }
        let batch = TrainingBatch(B: B, T: T, tokens: tokens, targets: targets, segments: [Int32](repeating: 0, count: B * T))
        _ = try trainer.accumulateGradients(batch, lossScale: 1)  // plans memory, warms caches
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        func cpu() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        let c0 = cpu()
        let t0 = now()
        trainer.zeroGradients()
        let logits = try trainer.forward(batch, rows: .targets, training: true)
        let t1 = now()
        let a = try trainer.requireActivations()
        Kernels.crossEntropy(logits.baseAddress!, losses: a.losses, targets: a.rowTargets, M: logits.count / 49152, V: 49152,
                             dlossScale: 1 / Float(batch.targetCount))
        let t2 = now()
        try trainer.backward()
        let t3 = now()
        let total = t3 - t0, cpuSeconds = cpu() - c0
        // On a shared machine the wall clock counts other processes' time; process CPU time / threads does not.
        // OpenBLAS's own rate on one of the step's shapes (ln2 (1024,576) · Wgate (1536,576)ᵀ), in the same conditions.
        let x = [Float](repeating: 0.01, count: 1024 * 576), w = [Float](repeating: 0.02, count: 1536 * 576)
        var y = [Float](repeating: 0, count: 1024 * 1536)
        let s0 = cpu()
        for _ in 0..<4 { Kernels.matmul(&y, x, w, nil, N: 1024, C: 576, OC: 1536) }
        let sgemmRate = 4 * 2 * 1024 * 576 * 1536 / (cpu() - s0) / 1e9
        let c = params.config
        let perLayer = c.dim * c.qDim * 2 + 2 * c.dim * c.kvDim + 3 * c.dim * c.hiddenDim
        let matmulParams = Double(c.layers * perLayer + c.vocabSize * c.dim)
        let flops = Double(B * T) * matmulParams * (mode == "full" ? 6 : 4)
        print(String(format: "  %.0f GFLOP in matmuls → %.1f GFLOP/s per CPU-second; sgemm alone %.1f → %.0f%% of it",
                     flops / 1e9, flops / cpuSeconds / 1e9, sgemmRate, 100 * flops / cpuSeconds / 1e9 / sgemmRate))
        print("  OpenBLAS kernels: \(OpenBLASCore.current) (recommended OPENBLAS_CORETYPE: \(OpenBLASCore.recommendedCoreType() ?? "none"))")
        print(String(format: "SmolLM2 %@ B%d×T256: step %.2f s = forward %.2f + cross-entropy %.2f + backward %.2f → %.0f tok/s; CPU %.2f s over %d threads → %.0f tok/s (activations %.0f MB)",
                     mode, B, total, t1 - t0, t2 - t1, t3 - t2, Double(B * T) / total, cpuSeconds, Parallel.threads,
                     Double(B * T) / (cpuSeconds / Double(Parallel.threads)), Double(trainer.activationBytes) / 1e6))
    }
}

