import Foundation
import Testing
@testable import DistillML

/// SmolLM2-135M-Instruct (the embedded default, Q4_1 GGUF dequantised to fp32) against transformers loading the same
/// file (fixture: scripts/fixtures/make_logits_fixture.py). Skipped when the 98 MB model is not cached.
@Suite(.serialized, .enabled(if: ModelFixtures.hasSmolLM2, "SmolLM2-135M-Instruct.Q4_1.gguf not cached; run `distill models pull`"))
struct SmolLM2ParityTests {
    struct Fixture: Decodable {
        struct Prompt: Decodable {
            var prompt: String
            var ids: [Int]
            var last_offset: Int
            var vocab: Int
            var strided_positions: [Int]
            var strided_offset: Int
            var stride: Int
            var strided_count: Int
            var greedy: [Int]
            var greedy_margins: [Float]
        }
        var prompts: [Prompt]
    }

    /// The model is loaded once for the suite (dequantising 135M weights takes a second or two).
    nonisolated(unsafe) static var shared: (LlamaModel, GGUFFile)?

    static func model() throws -> (LlamaModel, GGUFFile) {
        if let shared { return shared }
        let file = try GGUFFile(path: try #require(ModelFixtures.smolLM2Path))
        let loaded = (LlamaModel(parameters: try LlamaParameters(gguf: file)), file)
        shared = loaded
        return loaded
    }

    static func fixture() throws -> (Fixture, [Float]) {
        let base = ModelFixtures.fixturesDir + "/logits_smollm2"
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: base + ".json")))
        let floats = try Data(contentsOf: URL(fileURLWithPath: base + ".bin")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (fixture, floats)
    }

    @Test func configMatchesTheReferenceTable() throws {
        let c = try Self.model().0.config
        #expect(c.layers == 30 && c.dim == 576 && c.hiddenDim == 1536 && c.heads == 9 && c.kvHeads == 3 && c.headDim == 64)
        #expect(c.vocabSize == 49152 && c.tiedEmbeddings && !c.attentionBias && c.ropeTheta == 100_000 && c.rmsNormEps == 1e-5)
    }

    @Test func logitsMatchTransformersWithin1e4() throws {
        let (model, _) = try Self.model()
        let (fixture, floats) = try Self.fixture()
        let V = model.config.vocabSize
        for p in fixture.prompts {
            let cache = KVCache(config: model.config, slots: 1, capacity: p.ids.count)
            try model.forward([.init(slot: 0, tokens: p.ids)], cache: cache, logits: .all)
            let last = model.logitsArray(p.ids.count - 1)
            let want = Array(floats[p.last_offset..<(p.last_offset + V)])
            let err = TinyModelParityTests.relativeError(last, want)
            print("SmolLM2 parity '\(p.prompt.prefix(24))': last-position relative logit error \(err)")
            #expect(err < 1e-4, "'\(p.prompt)': last-position relative error \(err)")
            for (k, pos) in p.strided_positions.enumerated() {
                let row = model.logitsArray(pos)
                let got = stride(from: 0, to: V, by: p.stride).map { row[$0] }
                let at = p.strided_offset + k * p.strided_count
                let e = TinyModelParityTests.relativeError(got, Array(floats[at..<(at + p.strided_count)]))
                #expect(e < 1e-4, "'\(p.prompt)' position \(pos): relative error \(e)")
            }
        }
    }

    /// 64 greedy tokens per prompt, all 5 prompts decoded together in one batch, equal transformers' one by one.
    @Test func greedyContinuationsMatchTransformers() throws {
        let (model, _) = try Self.model()
        let (fixture, _) = try Self.fixture()
        let gen = Generator(model: model, slots: fixture.prompts.count, capacity: 256, endTokens: []) { _ in "" }
        var got: [Int: [Int]] = [:]
        try gen.generate(fixture.prompts.enumerated().map { GenerationRequest(id: $0.offset, prompt: $0.element.ids, maxTokens: 64) }) {
            got[$0.id] = $0.tokens
        }
        for (i, p) in fixture.prompts.enumerated() {
            let g = got[i] ?? []
            let agree = zip(g, p.greedy).prefix { $0 == $1 }.count
            #expect(g == p.greedy, "'\(p.prompt)': first \(agree) of 64 tokens agree")
        }
    }

    /// Last-position logits of `ids` on the model's quantised path, then on the exact path (quantised weights off).
    static func lastLogitsQuantisedAndExact(_ model: LlamaModel, _ ids: [Int]) throws -> ([Float], [Float]) {
        let cache = KVCache(config: model.config, slots: 1, capacity: ids.count)
        try model.forward([.init(slot: 0, tokens: ids)], cache: cache)
        let quantised = model.logitsArray(0)
        let saved = model.quantized
        model.quantized = nil
        defer { model.quantized = saved }
        cache.resetAll()
        try model.forward([.init(slot: 0, tokens: ids)], cache: cache)
        return (quantised, model.logitsArray(0))
    }

    /// The quantised-weight path (the file's own Q4_1/Q8_0 blocks, fp32 activations) against the exact path: the same
    /// weights, summed in another order, so logits agree to float rounding and greedy text should not move.
    @Test func quantisedPathAgreesWithExactPath() throws {
        let (model, file) = try Self.model()
        let (fixture, _) = try Self.fixture()
        model.quantized = try QuantizedLinears(gguf: file, parameters: model.parameters)
        let (rows, headRows) = (model.quantizedMaxRows, model.quantizedHeadMaxRows)
        model.quantizedMaxRows = 4096
        model.quantizedHeadMaxRows = 4096
        defer { model.quantized = nil; model.quantizedMaxRows = rows; model.quantizedHeadMaxRows = headRows }
        var worst: Float = 0
        for p in fixture.prompts {
            let (quantised, exact) = try Self.lastLogitsQuantisedAndExact(model, p.ids)
            worst = max(worst, TinyModelParityTests.relativeError(quantised, exact))
        }
        print("quantised path: worst last-position relative logit error vs fp32 = \(worst)")
        #expect(worst < 1e-4)
        let gen = Generator(model: model, slots: 1, capacity: 256, endTokens: []) { _ in "" }
        var agreeing = 0
        for p in fixture.prompts {
            var tokens: [Int] = []
            try gen.generate([GenerationRequest(id: 0, prompt: p.ids, maxTokens: 64)]) { tokens = $0.tokens }
            agreeing += zip(tokens, p.greedy).prefix { $0 == $1 }.count
        }
        print("quantised path: \(agreeing) of \(64 * fixture.prompts.count) greedy tokens agree with transformers (prefix agreement)")
        #expect(agreeing == 64 * fixture.prompts.count)
    }

    /// The int8-activation path (llama.cpp's arithmetic) reports its own agreement with the exact path: last-position
    /// logit error, and greedy tokens agreeing with transformers' continuations. Inputs rounded to 8 bits move the
    /// logits by about a percent, so greedy text may leave the fp32 path where two tokens are nearly tied (llama.cpp
    /// agreed on 97 of 320 here); the bounds below leave room for that and still catch a broken kernel, which
    /// gives garbage from the first token.
    @Test(.enabled(if: QuantizedLinears.int8Available, "int8 kernels are built for x86-64 AVX2 only"))
    func int8PathReportsAgreementWithExactPath() throws {
        let (model, file) = try Self.model()
        let (fixture, _) = try Self.fixture()
        model.quantized = try QuantizedLinears(gguf: file, parameters: model.parameters, activations: .int8)
        model.quantizedMaxRows = 4096
        model.quantizedHeadMaxRows = 4096
        defer { model.quantized = nil; model.quantizedMaxRows = 12; model.quantizedHeadMaxRows = 16 }
        var worst: Float = 0
        var topAgree = 0
        for p in fixture.prompts {
            let (fast, exact) = try Self.lastLogitsQuantisedAndExact(model, p.ids)
            worst = max(worst, TinyModelParityTests.relativeError(fast, exact))
            if fast.indices.max(by: { fast[$0] < fast[$1] }) == exact.indices.max(by: { exact[$0] < exact[$1] }) { topAgree += 1 }
        }
        let gen = Generator(model: model, slots: 1, capacity: 256, endTokens: []) { _ in "" }
        var prefixAgree = 0, positionAgree = 0
        for p in fixture.prompts {
            var tokens: [Int] = []
            try gen.generate([GenerationRequest(id: 0, prompt: p.ids, maxTokens: 64)]) { tokens = $0.tokens }
            prefixAgree += zip(tokens, p.greedy).prefix { $0 == $1 }.count
            positionAgree += zip(tokens, p.greedy).filter { $0 == $1 }.count
        }
        print("int8 path: worst last-position relative logit error vs fp32 = \(worst); top token agrees on \(topAgree)/\(fixture.prompts.count) prompts; "
              + "greedy vs transformers: \(prefixAgree) of \(64 * fixture.prompts.count) tokens before the first divergence, \(positionAgree) at equal positions")
        // Measured: 5.1% worst error, top token on 4 of 5 prompts, 206 of 320 tokens before divergence.
        #expect(worst < 0.1)
        #expect(prefixAgree >= 128)
    }

    /// The paths a batched decode takes with the default thresholds (12 rows: quantised layers and head; 16 rows:
    /// sgemm layers, quantised head; 20 rows: all fp32 sgemm) against the exact path: a decode step's logits within
    /// 1e-4 relative, and greedy tokens of 12, 16 and 20 sequences decoded together equal to transformers'
    /// (fixture) continuations.
    @Test func batchedDecodePathsAgreeWithExactPath() throws {
        let (model, file) = try Self.model()
        let (fixture, _) = try Self.fixture()
        model.quantized = try QuantizedLinears(gguf: file, parameters: model.parameters)
        defer { model.quantized = nil }
        #expect(model.quantizedMaxRows < 16 && model.quantizedHeadMaxRows >= 16 && model.quantizedHeadMaxRows < 20)
        let prompts = (0..<20).map { fixture.prompts[$0 % fixture.prompts.count] }
        for rows in [12, 16] {
            let cache = KVCache(config: model.config, slots: rows, capacity: 128)
            try model.forward((0..<rows).map { .init(slot: $0, tokens: prompts[$0].ids) }, cache: cache)
            let step = (0..<rows).map { LlamaModel.Chunk(slot: $0, tokens: [prompts[$0].greedy[0]]) }
            try model.forward(step, cache: cache)
            let fast = (0..<rows).map { model.logitsArray($0) }
            let saved = model.quantized
            model.quantized = nil
            for slot in 0..<rows { cache.reset(slot: slot, keep: prompts[slot].ids.count) }
            try model.forward(step, cache: cache)
            model.quantized = saved
            let worst = (0..<rows).map { TinyModelParityTests.relativeError(fast[$0], model.logitsArray($0)) }.max() ?? 0
            print("\(rows)-row decode step: worst relative logit error vs fp32 = \(worst)")
            #expect(worst < 1e-4)
        }
        for slots in [12, 16, 20] {
            let gen = Generator(model: model, slots: slots, capacity: 128, endTokens: []) { _ in "" }
            var got: [Int: [Int]] = [:]
            try gen.generate((0..<slots).map { GenerationRequest(id: $0, prompt: prompts[$0].ids, maxTokens: 24) }) { got[$0.id] = $0.tokens }
            for i in 0..<slots {
                #expect(got[i] == Array(prompts[i].greedy.prefix(24)), "batch \(slots), sequence \(i)")
            }
        }
    }
}
