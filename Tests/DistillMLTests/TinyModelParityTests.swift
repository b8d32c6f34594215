import Foundation
import Testing
@testable import DistillML

/// Tiny random Qwen2 (biases, separate head) and Llama (tied head, GQA, head_dim ≠ dim/heads) against transformers
/// (fixtures: scripts/fixtures/make_logits_fixture.py), and the engine's own invariants on them.
@Suite struct TinyModelParityTests {
    struct Expected: Decodable {
        var ids: [Int]
        var shape: [Int]
        var greedy: [Int]
    }

    static func load(_ name: String) throws -> (LlamaModel, Expected, [Float]) {
        let dir = ModelFixtures.fixturesDir + "/" + name
        let model = LlamaModel(parameters: try LlamaParameters(huggingFaceDirectory: dir))
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json")))
        let blob = try Data(contentsOf: URL(fileURLWithPath: dir + "/expected.bin"))
        let logits = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (model, expected, logits)
    }

    /// Logits of every position of one sequence, flattened (T, V).
    static func fullLogits(_ model: LlamaModel, _ ids: [Int]) throws -> [Float] {
        let cache = KVCache(config: model.config, slots: 1, capacity: 64)
        try model.forward([.init(slot: 0, tokens: ids)], cache: cache, logits: .all)
        return (0..<ids.count).flatMap { model.logitsArray($0) }
    }

    /// max |a − b| / max |b|: the relative error.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        return diff / max(b.map(abs).max() ?? 1, 1e-30)
    }

    static func greedy(_ model: LlamaModel, _ prompt: [Int], steps: Int) throws -> [Int] {
        let gen = Generator(model: model, slots: 1, capacity: 64, endTokens: []) { _ in "" }
        var out: [Int] = []
        try gen.generate([GenerationRequest(id: 0, prompt: prompt, maxTokens: steps)]) { out = $0.tokens }
        return out
    }

    @Test(arguments: ["tiny_qwen2", "tiny_llama", "tiny_llama3"])
    func logitsAndGreedyMatchTransformers(name: String) throws {
        let (model, expected, want) = try Self.load(name)
        #expect(model.config.attentionBias == (name == "tiny_qwen2"))
        #expect(model.config.tiedEmbeddings == (name == "tiny_llama"))
        #expect((model.config.ropeFreqFactors != nil) == (name == "tiny_llama3"))
        let got = try Self.fullLogits(model, expected.ids)
        #expect(got.count == expected.shape[0] * expected.shape[1])
        let err = Self.relativeError(got, want)
        #expect(err < 1e-5, "relative logit error \(err)")
        #expect(try Self.greedy(model, expected.ids, steps: expected.greedy.count) == expected.greedy)
    }

    /// The same weights through safetensors and through a GGUF our writer made (llama q/k permuted on write,
    /// un-permuted on read) give the same logits; Q8_0 gives close ones.
    @Test(arguments: ["tiny_qwen2", "tiny_llama", "tiny_llama3"])
    func ggufAndSafetensorsCopiesAgree(name: String) throws {
        let (model, expected, _) = try Self.load(name)
        let reference = try Self.fullLogits(model, expected.ids)
        let path = ModelFixtures.temporaryPath("\(name).gguf")
        try #require(model.parameters).writeGGUF(to: path, type: .f32)
        let fromGGUF = LlamaModel(parameters: try LlamaParameters(gguf: GGUFFile(path: path)))
        var expectedConfig = model.config
        expectedConfig.llama3RopeScaling = nil  // GGUF keeps only the factors (rope_freqs.weight)
        #expect(fromGGUF.config == expectedConfig)
        #expect(try Self.fullLogits(fromGGUF, expected.ids) == reference)
        let q8Path = ModelFixtures.temporaryPath("\(name)-q8.gguf")
        try #require(model.parameters).writeGGUF(to: q8Path, type: .q8_0)
        let q8 = LlamaModel(parameters: try LlamaParameters(gguf: GGUFFile(path: q8Path)))
        let q8Error = Self.relativeError(try Self.fullLogits(q8, expected.ids), reference)
        // 8-bit weights perturb a random (unnormalised) model more than a trained one; this bounds gross errors.
        #expect(q8Error < 0.06, "Q8_0 relative logit error \(q8Error)")
        // And back out to safetensors: the round trip is exact.
        let dir = ModelFixtures.temporaryPath("\(name)-hf")
        if fromGGUF.config.ropeFreqFactors != nil {
            // Factors without their llama3 parameters have no config.json form: refused, not silently dropped.
            #expect(throws: DistillMLError.self) { try fromGGUF.parameters?.writeHuggingFace(to: dir) }
            try #require(model.parameters).writeHuggingFace(to: dir)
        } else {
            try #require(fromGGUF.parameters).writeHuggingFace(to: dir)
        }
        let again = LlamaModel(parameters: try LlamaParameters(huggingFaceDirectory: dir))
        #expect(try Self.fullLogits(again, expected.ids) == reference)
    }

    /// Feeding tokens one at a time through the KV cache gives the full-sequence logits.
    @Test func kvCacheDecodeEqualsFullSequence() throws {
        let (model, expected, _) = try Self.load("tiny_qwen2")
        let full = try Self.fullLogits(model, expected.ids)
        let cache = KVCache(config: model.config, slots: 1, capacity: 64)
        var stepwise: [Float] = []
        for (i, id) in expected.ids.enumerated() {
            // First 3 tokens as one chunk, then one by one: mixes prefill and decode.
            if i < 3 { if i == 2 { try model.forward([.init(slot: 0, tokens: Array(expected.ids[0...2]))], cache: cache, logits: .all)
                stepwise += (0..<3).flatMap { model.logitsArray($0) } }; continue }
            try model.forward([.init(slot: 0, tokens: [id])], cache: cache)
            stepwise += model.logitsArray(0)
        }
        #expect(Self.relativeError(stepwise, full) < 1e-6)
    }

    /// Several sequences of different lengths in one ragged batch, with passes split at maxRows, equal each alone.
    @Test func batchedEqualsOneAtATime() throws {
        let dir = ModelFixtures.fixturesDir + "/tiny_llama"
        let model = LlamaModel(parameters: try LlamaParameters(huggingFaceDirectory: dir), maxRows: 7)
        let prompts = [[1, 2, 3], [5, 6, 7, 8, 9, 10, 11, 12, 13], [40], [7, 7, 7, 7, 7]]
        let alone = try prompts.map { try Self.greedy(model, $0, steps: 12) }
        let gen = Generator(model: model, slots: 3, capacity: 64, endTokens: []) { _ in "" }
        var batched: [Int: [Int]] = [:]
        try gen.generate(prompts.enumerated().map { GenerationRequest(id: $0.offset, prompt: $0.element, maxTokens: 12) }) {
            batched[$0.id] = $0.tokens
        }
        #expect(prompts.indices.map { batched[$0] ?? [] } == alone)
        // Sampled generation too: each sequence owns its seeded sampler, so batching does not change its draws.
        let sampling = SamplingParameters(temperature: 0.9, topK: 20, topP: 0.9, minP: 0.02, seed: 42)
        var single: [Int] = []
        let one = Generator(model: model, slots: 1, capacity: 64, endTokens: []) { _ in "" }
        try one.generate([GenerationRequest(id: 1, prompt: prompts[1], maxTokens: 12, sampling: sampling)]) { single = $0.tokens }
        var many: [Int] = []
        try gen.generate(prompts.enumerated().map { GenerationRequest(id: $0.offset, prompt: $0.element, maxTokens: 12, sampling: sampling) }) {
            if $0.id == 1 { many = $0.tokens }
        }
        #expect(single == many && single.count == 12)
    }

    /// Prompts that share a prefix (a system turn, the same question several times) copy its keys and values instead
    /// of recomputing them, in the same pass's wait or from a slot that already holds them, and generate what they
    /// generate without sharing.
    @Test func sharedPrefixesAreCopiedNotRecomputed() throws {
        let dir = ModelFixtures.fixturesDir + "/tiny_llama"
        let model = LlamaModel(parameters: try LlamaParameters(huggingFaceDirectory: dir), maxRows: 16)
        let system = Array(3..<23)  // 20 shared tokens
        let prompts = [system + [40, 41], system + [50], system + [40, 41], system + [60, 61, 62], [9, 9, 9], system + [40, 41]]
        func run(sharing: Bool, slots: Int) throws -> ([[Int]], Generator) {
            let gen = Generator(model: model, slots: slots, capacity: 64, endTokens: []) { _ in "" }
            gen.sharesPrefixes = sharing
            var out: [Int: [Int]] = [:]
            try gen.generate(prompts.enumerated().map { GenerationRequest(id: $0.offset, prompt: $0.element, maxTokens: 10) }) {
                out[$0.id] = $0.tokens
            }
            return (prompts.indices.map { out[$0] ?? [] }, gen)
        }
        let (plain, plainGen) = try run(sharing: false, slots: 4)
        #expect(plainGen.promptTokensShared == 0 && plainGen.promptTokensComputed == prompts.reduce(0) { $0 + $1.count })
        for slots in [1, 2, 4] {
            let (shared, gen) = try run(sharing: true, slots: slots)
            #expect(shared == plain, "\(slots) slots")
            #expect(gen.promptTokensShared + gen.promptTokensComputed == prompts.reduce(0) { $0 + $1.count })
            // With several slots only the first system turn is computed: a waiting slot copies from the one
            // prefilling it. With one slot the slot's own history serves the next prompt, until [9, 9, 9] replaces it.
            let sharers = slots == 1 ? 3 : 4
            #expect(gen.promptTokensShared >= sharers * system.count, "\(slots) slots: \(gen.promptTokensShared) shared")
        }
    }
}
