import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// LoRA adapters applied unmerged (y = W·x + (alpha/r)·B·(A·x)) against the same adapter merged into the weights,
/// and models loaded without fp32 copies against the fp32 path on the same file.
@Suite struct UnmergedLoRATests {
    static let prompt = [1, 72, 101, 108, 108, 111, 259, 260, 2, 1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49]

    @Test func unmergedLogitsEqualMergedWithin1e5() throws {
        let dir = ModelFixtures.temporaryPath("unmerged-lora")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let adapter = try TinyAdapter.write(to: dir + "/adapter", seed: 5)
        let merged = try LlamaParameters(gguf: GGUFFile(path: dir + "/tiny.gguf"))
        try adapter.merge(into: merged, baseName: "tiny.gguf", adapterName: dir + "/adapter")
        let want = try TinyModelParityTests.fullLogits(LlamaModel(parameters: merged), Self.prompt)
        let lm = try LanguageModel(path: dir + "/tiny.gguf", precision: .exact, adapter: dir + "/adapter")
        #expect(lm.model.adapter != nil)
        let got = try TinyModelParityTests.fullLogits(lm.model, Self.prompt)
        let base = try TinyModelParityTests.fullLogits(lm.model.sharingWeights(adapter: nil), Self.prompt)
        let err = TinyModelParityTests.relativeError(got, want)
        print("unmerged vs merged LoRA: relative logit error \(err); the adapter moves logits by \(TinyModelParityTests.relativeError(base, want))")
        #expect(err < 1e-5)
        #expect(TinyModelParityTests.relativeError(base, want) > 1e-2, "the adapter must change the logits for the test to mean anything")
    }

    @Test func adaptersFromAnotherBaseAreRefusedNamingBoth() throws {
        let dir = ModelFixtures.temporaryPath("unmerged-foreign")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FuzzSeeds.writeGGUF(FuzzSeeds.smallConfig, to: dir + "/other.gguf")
        _ = try TinyAdapter.write(to: dir + "/adapter", seed: 5, baseModel: "tiny-base")
        let e = try #require(throws: (any Error).self) { try LanguageModel(path: dir + "/other.gguf", precision: .exact, adapter: dir + "/adapter") }
        let text = "\(e)"
        #expect(text.contains("other.gguf") && text.contains("tiny-base"), "\(text)")
    }

    /// A Q4_1 file loads without fp32 copies; few-row passes run the 4-bit kernels, long ones sgemm over decoded
    /// slices; both agree with the fp32 path on the same file (the same weights, another summation order).
    @Test(arguments: [GGMLType.q4_1, .q4_0, .q8_0], [LanguageModel.Precision.weights, .int8])
    func quantisedOnlyModelsMatchTheFP32Path(type: GGMLType, precision: LanguageModel.Precision) throws {
        guard precision != .int8 || QuantizedLinears.int8Available else { return }
        let dir = ModelFixtures.temporaryPath("quantised-only-\(type)-\(precision)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf", type: type)
        _ = try TinyAdapter.write(to: dir + "/adapter", seed: 9)
        let exact = try LanguageModel(path: dir + "/tiny.gguf", precision: .exact, adapter: dir + "/adapter")
        let lean = try LanguageModel(path: dir + "/tiny.gguf", precision: precision, adapter: dir + "/adapter")
        #expect(exact.model.parameters != nil && lean.model.parameters == nil && lean.model.quantized != nil)
        let want = try TinyModelParityTests.fullLogits(exact.model, Self.prompt)
        // Every row through the quantised kernels, then (threshold 0) every row through sgemm over decoded slices.
        lean.model.quantizedMaxRows = .max
        lean.model.quantizedHeadMaxRows = .max
        let kernels = try TinyModelParityTests.fullLogits(lean.model, Self.prompt)
        lean.model.quantizedMaxRows = 0
        lean.model.quantizedHeadMaxRows = 0
        let decoded = try TinyModelParityTests.fullLogits(lean.model, Self.prompt)
        let (kErr, dErr) = (TinyModelParityTests.relativeError(kernels, want), TinyModelParityTests.relativeError(decoded, want))
        print("\(type) \(precision) without fp32 copies: relative logit error kernels \(kErr), decoded sgemm \(dErr)")
        #expect(dErr < 1e-5)
        #expect(kErr < (precision == .int8 ? 5e-2 : 1e-5))
        lean.model.quantized = nil
        #expect(throws: DistillMLError.self) { try TinyModelParityTests.fullLogits(lean.model, Self.prompt) }
    }

    /// dX = dY·W through decoded row slices equals the product with the dequantised matrix, in both layouts.
    @Test(arguments: [GGMLType.q4_1, .q8_0], [QuantizedActivations.float, .int8])
    func inputGradientOfQuantisedMatrices(type: GGMLType, activations: QuantizedActivations) throws {
        guard activations == .float || QuantizedLinears.int8Available else { return }
        let rows = 300, cols = 128, N = 5
        var rng = SplitMix64(seed: 3)
        let w = (0..<(rows * cols)).map { _ in Float(rng.nextUnit()) * 2 - 1 }
        let blocks = type == .q8_0 ? GGMLEncode.q8_0(w) : GGMLEncode.q4_1(w)
        var dense = [Float](repeating: 0, count: rows * cols)
        blocks.withUnsafeBytes { GGMLDequantize.row(type, $0.baseAddress!, &dense, count: rows * cols) }
        let m = blocks.withUnsafeBytes { QuantizedMatrix(rows: rows, cols: cols, type: type, blocks: $0.baseAddress!, activations: activations) }
        var decoded = [Float](repeating: 0, count: rows * cols)
        m.dequantize(rows: 0, rows, into: &decoded)
        #expect(decoded == dense)
        let dy = (0..<(N * rows)).map { _ in Float(rng.nextUnit()) - 0.5 }
        var dx = [Float](repeating: 1, count: N * cols)
        m.accumulateInputGradient(&dx, dy, N: N)
        for n in 0..<N {
            for c in 0..<cols {
                var want: Double = 1
                for r in 0..<rows { want += Double(dy[n * rows + r]) * Double(dense[r * cols + c]) }
                #expect(abs(Double(dx[n * cols + c]) - want) < 1e-3 * max(1, abs(want)))
            }
        }
    }
}
