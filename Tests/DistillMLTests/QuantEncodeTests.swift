import Foundation
import Testing
@testable import DistillML

/// Q4_0 / Q4_1 / Q8_0 encoders byte for byte against gguf-py's quantizers (fixture by
/// scripts/fixtures/make_quant_encode_fixture.py), and a GGUF written in each type loads back.
@Suite struct QuantEncodeTests {
    static func bin(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: ModelFixtures.fixturesDir + "/training/" + name))
    }

    @Test func encodersMatchGGUFPy() throws {
        let x = try Self.bin("quant_input.bin").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(x.count == 2048)
        #expect(Data(GGMLEncode.q4_0(x)) == (try Self.bin("quant_q4_0.bin")))
        #expect(Data(GGMLEncode.q4_1(x)) == (try Self.bin("quant_q4_1.bin")))
        #expect(Data(GGMLEncode.q8_0(x)) == (try Self.bin("quant_q8_0.bin")))
    }

    @Test func q4ModelsLoadBack() throws {
        var c = LlamaConfig(architecture: "llama", layers: 1, dim: 64, hiddenDim: 128, heads: 4, kvHeads: 2,
                            vocabSize: 96, contextLength: 64, ropeTheta: 10_000, rmsNormEps: 1e-5)
        c.tiedEmbeddings = true
        let p = LlamaParameters(config: c)
        p.randomize(seed: 9)
        for type in [GGMLType.q4_0, .q4_1] {
            let path = ModelFixtures.temporaryPath("q4-\(type.rawValue).gguf")
            try p.writeGGUF(to: path, type: type)
            let file = try GGUFFile(path: path)
            #expect(file.tensor(named: "blk.0.ffn_up.weight")?.type == type)
            let back = try LlamaParameters(gguf: file)
            // 4-bit blocks: each value within half a step (range/15 or amax/8) of the original.
            let err = zip(back.values(.wUp), p.values(.wUp)).map { abs($0 - $1) }.max() ?? 1
            #expect(err < 0.1 * 0.6, "\(type): max error \(err)")
            #expect(back.values(.attnNorm) == p.values(.attnNorm))
        }
    }
}
