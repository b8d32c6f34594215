import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// QLoRA: LoRA over a frozen base kept in the GGUF's 4/8-bit blocks against LoRA over the same base dequantised to
/// fp32 (the values are the same; only the input gradient's summation order differs).
@Suite struct QLoRATests {
    @Test(arguments: [GGMLType.q4_1, .q8_0])
    func quantisedBaseGivesTheFP32BasesLossAndGradients(type: GGMLType) throws {
        let dir = ModelFixtures.temporaryPath("qlora-\(type)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf", type: type)
        let (lean, frozen) = try ModelFiles.loadQuantizedBase(dir + "/tiny.gguf")
        #expect(!lean.isComplete && lean.pointer(.wq) == nil && lean.pointer(.attnNorm) != nil)
        let lora = LoRAConfiguration(rank: 4, alpha: 8, seed: 3)
        let q = try TrainableLlama(base: lean, mode: .lora(lora), frozen: frozen)
        let f = try TrainableLlama(base: LlamaParameters(gguf: GGUFFile(path: dir + "/tiny.gguf")), mode: .lora(lora))
        // B = 0 at start would hide the input gradient through the LoRA path: give B values first.
        var rng = SplitMix64(seed: 4)
        for t in q.tensors where t.name.contains("lora_B") {
            for i in 0..<t.count { q.parameters[t.offset + i] = 0.05 * (Float(rng.nextUnit()) * 2 - 1) }
        }
        f.parameters.update(fromContentsOf: q.parameters)
        let B = 2, T = 12, V = TinyModel.config.vocabSize
        let tokens = (0..<(B * T)).map { _ in Int32(rng.next() % UInt64(V)) }
        let targets = (0..<(B * T)).map { i in i % T == T - 1 ? TrainingBatch.ignore : tokens[i + 1] }
        let batch = TrainingBatch(B: B, T: T, tokens: tokens, targets: targets, segments: [Int32](repeating: 0, count: B * T))
        for m in [q, f] { m.zeroGradients() }
        let lq = try q.accumulateGradients(batch, lossScale: 1 / Float(batch.targetCount))
        let lf = try f.accumulateGradients(batch, lossScale: 1 / Float(batch.targetCount))
        #expect(lq.lossSum == lf.lossSum, "the forward over decoded slices is the fp32 forward on the same values")
        let gq = Array(q.gradients), gf = Array(f.gradients)
        let err = TinyModelParityTests.relativeError(gq, gf)
        print("QLoRA \(type): loss \(lq.lossSum / Double(lq.targets)) (fp32 base: \(lf.lossSum / Double(lf.targets))), LoRA gradient relative error \(err)")
        #expect(err < 1e-5)
        // The merged export dequantises the frozen blocks: the same weights as merging into the fp32 base.
        #expect(q.mergedParameters().values(.wq, layer: 1) == f.mergedParameters().values(.wq, layer: 1))
        #expect(throws: DistillMLError.self) { try TrainableLlama(base: lean, mode: .full, frozen: frozen) }
    }
}
