import DistillData
import Foundation
import Testing
@testable import DistillML

/// The training engine's own invariants: LoRA with B = 0 is the base model, packed items equal separate runs, a tiny
/// model overfits one batch, runs are bitwise repeatable; and SmolLM2-135M's LoRA gradients against PEFT.
@Suite struct TrainingInvariantTests {
    static func tinyLlama() throws -> LlamaParameters {
        try LlamaParameters(huggingFaceDirectory: ModelFixtures.fixturesDir + "/train_tiny_llama")
    }

    static func randomBatch(B: Int, T: Int, V: Int, seed: UInt64) -> TrainingBatch {
        var rng = SplitMix64(seed: seed)
        let tokens = (0..<(B * T)).map { _ in Int32(rng.index(below: V)) }
        let targets = (0..<(B * T)).map { i in i % T < 2 ? TrainingBatch.ignore : Int32(rng.index(below: V)) }
        return TrainingBatch(B: B, T: T, tokens: tokens, targets: targets, segments: [Int32](repeating: 0, count: B * T))
    }

    @Test func loraWithZeroBGivesTheBaseModel() throws {
        let params = try Self.tinyLlama()
        let batch = Self.randomBatch(B: 2, T: 9, V: params.config.vocabSize, seed: 5)
        let lora = try TrainableLlama(base: params, mode: .lora(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1, seed: 3)))
        let full = try TrainableLlama(base: params, mode: .full)
        // Loss: bitwise the same (B = 0 adds exact zeros), dropout included.
        lora.zeroGradients()
        let trained = try lora.accumulateGradients(batch, lossScale: 1)
        #expect(try lora.evaluate(batch).lossSum == full.evaluate(batch).lossSum)
        #expect(trained.lossSum == (try full.evaluate(batch)).lossSum)
        // B's gradient is non-zero (A is random), A's is exactly zero (B = 0).
        let aGrad = lora.tensors.filter { $0.name.hasSuffix("lora_A.weight") }.flatMap { lora.gradient(of: $0) }
        let bGrad = lora.tensors.filter { $0.name.hasSuffix("lora_B.weight") }.flatMap { lora.gradient(of: $0) }
        #expect(aGrad.allSatisfy { $0 == 0 })
        #expect(bGrad.contains { $0 != 0 })
        // Logits: the same as the inference engine's, row by row.
        let logits = Array(try lora.forward(batch, rows: .all, training: false))
        let model = LlamaModel(parameters: params)
        let V = params.config.vocabSize
        var worst: Float = 0
        for b in 0..<batch.B {
            let ids = batch.tokens[(b * batch.T)..<((b + 1) * batch.T)].map(Int.init)
            let want = try TinyModelParityTests.fullLogits(model, ids)
            let got = Array(logits[(b * batch.T * V)..<((b + 1) * batch.T * V)])
            worst = max(worst, TinyModelParityTests.relativeError(got, want))
        }
        #expect(worst < 1e-5, "trainer vs inference logits: relative error \(worst)")
        // The merged model of an untrained adapter is the base.
        #expect(lora.mergedParameters().values(.wq, layer: 1) == params.values(.wq, layer: 1))
    }

    /// Two items packed into one row (plus padding) give the loss and gradients of the two run on their own.
    @Test(arguments: [false, true])
    func packedSegmentsEqualSeparateRuns(lora: Bool) throws {
        let params = try Self.tinyLlama()
        let mode: TrainableLlama.Mode = lora ? .lora(LoRAConfiguration(rank: 4, alpha: 8, seed: 9)) : .full
        let first = Self.randomBatch(B: 1, T: 4, V: params.config.vocabSize, seed: 11)
        let second = Self.randomBatch(B: 1, T: 6, V: params.config.vocabSize, seed: 12)
        let packed = TrainingBatch(B: 1, T: 12, tokens: first.tokens + second.tokens + [3, 3],
                                   targets: first.targets + second.targets + [TrainingBatch.ignore, TrainingBatch.ignore],
                                   segments: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2])
        let together = try TrainableLlama(base: params, mode: mode)
        let apart = try TrainableLlama(base: params, mode: mode)
        if lora {  // non-zero B so every LoRA gradient is exercised
            for t in together.tensors where t.name.hasSuffix("lora_B.weight") {
                for i in t.offset..<(t.offset + t.count) {
                    together.parameters[i] = Float(i % 7) * 0.01 - 0.03
                    apart.parameters[i] = together.parameters[i]
                }
            }
        }
        together.zeroGradients()
        apart.zeroGradients()
        let p = try together.accumulateGradients(packed, lossScale: 1)
        let a1 = try apart.accumulateGradients(first, lossScale: 1)
        let a2 = try apart.accumulateGradients(second, lossScale: 1)
        #expect(p.targets == a1.targets + a2.targets)
        #expect(abs(p.lossSum - (a1.lossSum + a2.lossSum)) < 1e-5 * abs(p.lossSum), "\(p.lossSum) vs \(a1.lossSum + a2.lossSum)")
        var worst: Float = 0
        for t in together.tensors {
            let want = apart.gradient(of: t)
            worst = max(worst, TrainingParityTests.relativeError(together.gradient(of: t), want[...]))
        }
        #expect(worst < 1e-5, "packed vs separate: worst relative gradient error \(worst)")
    }

    @Test func tinyModelOverfitsOneBatch() throws {
        let params = try Self.tinyLlama()
        let batch = Self.randomBatch(B: 2, T: 12, V: params.config.vocabSize, seed: 21)
        let losses = try TrainingParityTests.adamwLosses(try TrainableLlama(base: params, mode: .full), batch, steps: 40)
        let first = try #require(losses.first), last = try #require(losses.last)
        #expect(last < 0.05 && last < first / 50, "loss \(first) → \(last)")
    }

    @Test func sameInputsAndSeedGiveBitwiseSameGradients() throws {
        let cfg = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.2, seed: 17)
        var grads: [[Float]] = []
        for _ in 0..<2 {
            let trainer = try TrainableLlama(base: try Self.tinyLlama(), mode: .lora(cfg))
            for i in 0..<trainer.parameters.count { trainer.parameters[i] += Float(i % 5) * 1e-3 }
            trainer.zeroGradients()
            for seed in [1, 2] as [UInt64] {
                _ = try trainer.accumulateGradients(Self.randomBatch(B: 2, T: 8, V: 64, seed: seed), lossScale: 0.1)
            }
            grads.append(Array(trainer.gradients))
        }
        #expect(grads[0] == grads[1])
        #expect(grads[0].contains { $0 != 0 })
        // Recomputing the attention softmax in the backward pass changes nothing, bit for bit, and saves memory.
        let kept = try TrainableLlama(base: try Self.tinyLlama(), mode: .full)
        let recomputed = try TrainableLlama(base: try Self.tinyLlama(), mode: .full)
        recomputed.recomputeAttention = true
        let batch = Self.randomBatch(B: 2, T: 8, V: 64, seed: 3)
        for trainer in [kept, recomputed] {
            trainer.zeroGradients()
            _ = try trainer.accumulateGradients(batch, lossScale: 1)
        }
        #expect(Array(kept.gradients) == Array(recomputed.gradients))
        #expect(recomputed.activationBytes < kept.activationBytes)
    }

    /// LoRA dropout's gradients are those of the dropped-out forward pass: replaying a pass's dropout stream gives the
    /// same masks, so central differences of the loss at fixed masks match the analytic A and B gradients.
    @Test func loraDropoutGradientsMatchFiniteDifferences() throws {
        let trainer = try TrainableLlama(base: try Self.tinyLlama(),
                                         mode: .lora(LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.3, seed: 4)))
        for i in 0..<trainer.parameters.count where trainer.parameters[i] == 0 { trainer.parameters[i] = Float(i % 11) * 0.02 - 0.1 }
        let batch = Self.randomBatch(B: 2, T: 8, V: 64, seed: 8)
        trainer.dropoutStream = 41
        trainer.zeroGradients()
        let base = try trainer.accumulateGradients(batch, lossScale: 1).lossSum
        let grads = Array(trainer.gradients)
        func loss() throws -> Double {
            trainer.dropoutStream = 41
            return try trainer.accumulateGradients(batch, lossScale: 1).lossSum
        }
        #expect(try loss() == base)
        trainer.dropoutStream = 42
        #expect(try trainer.accumulateGradients(batch, lossScale: 1).lossSum != base, "another pass draws other masks")
        var rng = SplitMix64(seed: 3)
        let h: Float = 1e-2
        let scale = grads.map(abs).max() ?? 0
        var worst: Float = 0
        for _ in 0..<24 {
            let i = rng.index(below: grads.count)
            let saved = trainer.parameters[i]
            trainer.parameters[i] = saved + h
            let up = try loss()
            trainer.parameters[i] = saved - h
            let down = try loss()
            trainer.parameters[i] = saved
            worst = max(worst, abs(Float((up - down) / Double(2 * h)) - grads[i]))
        }
        #expect(worst <= 1e-2 * scale + 1e-3, "worst |fd − analytic| \(worst), max |analytic| \(scale)")
    }

    /// The formula make_training_fixture.py's `lora_init` fills SmolLM2's LoRA with.
    static func loraInit(layer: Int, kind: Int, count: Int, isA: Bool) -> [Float] {
        (0..<count).map { idx in
            let h = (idx * 2_654_435_761 + layer * 40503 + kind * 9973 + (isA ? 0 : 7919)) % 2000
            return Float(Double(h - 1000) / 1000.0 * (isA ? 0.05 : 0.02))
        }
    }

    struct SmolExpected: Decodable {
        struct Grad: Decodable { var name: String; var shape: [Int]; var norm: Double; var absmax: Double; var head: [Double]; var torch_fp32_error: Double }
        var B: Int, T: Int, tokens: [Int32], targets: [Int32], rank: Int, alpha: Float, loss_sum: Double, targets_count: Int
        var grads: [Grad]
    }

    @Test(.enabled(if: ModelFixtures.hasSmolLM2)) func smolLM2LoRAGradientsMatchPEFT() throws {
        let e = try JSONDecoder().decode(SmolExpected.self, from: Data(contentsOf: URL(fileURLWithPath: ModelFixtures.fixturesDir + "/train_smollm2.json")))
        let params = try LlamaParameters(gguf: GGUFFile(path: try #require(ModelFixtures.smolLM2Path)))
        let trainer = try TrainableLlama(base: params, mode: .lora(LoRAConfiguration(rank: e.rank, alpha: e.alpha)))
        for t in trainer.tensors {
            let layer = Int(t.name.split(separator: ".")[4]) ?? -1
            let kind = LoRATarget.allCases.firstIndex { t.name.contains("." + $0.rawValue + ".") } ?? -1
            let values = Self.loraInit(layer: layer, kind: kind, count: t.count, isA: t.name.hasSuffix("lora_A.weight"))
            for (i, v) in values.enumerated() { trainer.parameters[t.offset + i] = v }
        }
        let batch = TrainingBatch(B: e.B, T: e.T, tokens: e.tokens, targets: e.targets, segments: [Int32](repeating: 0, count: e.B * e.T))
        trainer.zeroGradients()
        let (loss, count) = try trainer.accumulateGradients(batch, lossScale: 1)
        #expect(count == e.targets_count)
        let lossError = abs(loss - e.loss_sum) / e.loss_sum
        #expect(lossError < 1e-4, "loss \(loss) vs PEFT \(e.loss_sum)")
        let byName = Dictionary(uniqueKeysWithValues: trainer.tensors.map { ($0.name, $0) })
        var worst = 0.0, torchWorst = 0.0
        for g in e.grads {
            let t = try #require(byName[g.name])
            let got = trainer.gradient(of: t)
            let norm = got.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let headErr = zip(got, g.head).map { abs(Double($0) - $1) }.max() ?? 0
            // The tensor's norm, and its first 16 values against 1e-4 · max |g| (the tiny models' rule).
            let err = max(abs(norm - g.norm) / g.norm, headErr / g.absmax)
            #expect(err < 1e-4, "\(g.name): norm \(norm) vs \(g.norm), first values off by \(headErr)")
            worst = max(worst, err)
            torchWorst = max(torchWorst, g.torch_fp32_error)
        }
        // PyTorch's own float32 gradients against the same float64 reference, for scale.
        print("SmolLM2 LoRA vs PEFT: loss relative error \(lossError), worst gradient error \(worst) (PyTorch float32's own max |Δ| / max |g|: \(torchWorst))")
    }
}
