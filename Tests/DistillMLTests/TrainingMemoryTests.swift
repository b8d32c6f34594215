import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// Memory for time, never for bits: layer recomputation and the chunked head + cross-entropy give bitwise the same
/// weights as keeping every activation and every logit, over several AdamW steps of full, LoRA and QLoRA training.
@Suite struct TrainingMemoryTests {
    /// 5 × 64 rows with 62 targets each: 310 head rows, more than one head chunk.
    static func batches() -> [TrainingBatch] {
        (0..<3).map { TrainingInvariantTests.randomBatch(B: 5, T: 64, V: TinyModel.config.vocabSize, seed: 40 + UInt64($0)) }
    }

    /// Trains `steps` AdamW steps over `batches` (two micro-batches per step) and returns the weights.
    static func train(_ model: TrainableLlama, steps: Int = 3) throws -> [Float] {
        let opt = AdamW(parameterCount: model.parameters.count, settings: .init(weightDecay: 0.01))
        let data = batches()
        for step in 0..<steps {
            model.zeroGradients()
            for b in [data[step % data.count], data[(step + 1) % data.count]] {
                _ = try model.accumulateGradients(b, lossScale: 1 / 300)
            }
            opt.update(model.tensors, parameters: model.parameters, gradients: model.gradients, lr: 1e-2)
        }
        return Array(model.parameters)
    }

    static func randomBase() -> LlamaParameters {
        let p = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 9, scale: 0.2)
        return p
    }

    @Test(arguments: ["full", "lora"])
    func recomputedLayersGiveBitwiseTheSameWeights(mode: String) throws {
        let trainerMode: TrainableLlama.Mode = mode == "full" ? .full
            : .lora(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1, seed: 5))
        let kept = try TrainableLlama(base: Self.randomBase(), mode: trainerMode)
        let recomputed = try TrainableLlama(base: Self.randomBase(), mode: trainerMode)
        recomputed.recomputeLayers = true
        let initial = Array(kept.parameters)
        let a = try Self.train(kept), b = try Self.train(recomputed)
        #expect(a == b)
        #expect(a != initial, "training moved the weights")
        #expect(recomputed.activationBytes < kept.activationBytes, "\(recomputed.activationBytes) vs \(kept.activationBytes)")
        // Both recomputations at once: still the same bits.
        let both = try TrainableLlama(base: Self.randomBase(), mode: trainerMode)
        both.recomputeLayers = true
        both.recomputeAttention = true
        #expect(try Self.train(both) == a)
    }

    @Test func qloraRecomputesLayersToTheSameBits() throws {
        let dir = ModelFixtures.temporaryPath("recompute-qlora")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf", type: .q4_1)
        var weights: [[Float]] = []
        for recompute in [false, true] {
            let (lean, frozen) = try ModelFiles.loadQuantizedBase(dir + "/tiny.gguf")
            let m = try TrainableLlama(base: lean, mode: .lora(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.05, seed: 2)),
                                       frozen: frozen)
            m.recomputeLayers = recompute
            weights.append(try Self.train(m))
        }
        #expect(weights[0] == weights[1])
    }

    /// The cross-entropy path never holds (M, V) logits; `forward` + the same loss written over its logits +
    /// `backward()` (the path distillation losses take) gives the same loss and gradients, bit for bit.
    @Test func chunkedCrossEntropyEqualsTheFullLogitsPath() throws {
        let batch = Self.batches()[0]
        let M = batch.targetCount
        #expect(M > TrainableLlama.headChunkRows, "more than one head chunk")
        let chunked = try TrainableLlama(base: Self.randomBase(), mode: .full)
        chunked.zeroGradients()
        let loss = try chunked.accumulateGradients(batch, lossScale: 0.25)
        let whole = try TrainableLlama(base: Self.randomBase(), mode: .full)
        whole.zeroGradients()
        let logits = try whole.forward(batch, rows: .targets, training: true)
        let V = TinyModel.config.vocabSize
        #expect(logits.count == M * V)
        let targets = whole.logitRowIndices.map { batch.targets[$0] }
        var losses = [Float](repeating: 0, count: M)
        Kernels.crossEntropy(logits.baseAddress!, losses: &losses, targets: targets, M: M, V: V, dlossScale: 0.25)
        try whole.backward()
        #expect(loss.targets == M)
        #expect(loss.lossSum == losses.reduce(0.0) { $0 + Double($1) })
        #expect(Array(chunked.gradients) == Array(whole.gradients))
        #expect(chunked.gradients.contains { $0 != 0 })
        // Planned once: the chunked path's activations hold one chunk of logits; the (M,V) block came with `forward`.
        #expect(chunked.activationBytes + batch.B * batch.T * V * 4 == whole.activationBytes)
    }
}
