import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// PEFT adapters both ways: one saved by PEFT itself (fixture by scripts/fixtures/check_peft_adapter.py) merges into
/// SmolLM2 and gives PEFT's logits; one written by distill reads back identically; a foreign base is refused.
@Suite(.serialized) struct PEFTAdapterTests {
    @Test(.enabled(if: ModelFixtures.hasSmolLM2, "SmolLM2-135M-Instruct.Q4_1.gguf not cached"))
    func peftSavedAdapterGivesPEFTsLogits() throws {
        struct Expected: Decodable { var ids: [Int]; var vocab: Int; var adapter_effect: Double }
        let dir = ModelFixtures.fixturesDir + "/peft_adapter"
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json")))
        let want = try Data(contentsOf: URL(fileURLWithPath: dir + "/expected.bin")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let adapter = try PEFTAdapter.read(dir)
        #expect(adapter.config.r == 2 && adapter.config.alpha == 4 && adapter.config.targetModules == ["q_proj", "v_proj"])
        let params = try LlamaParameters(gguf: try GGUFFile(path: try #require(ModelFixtures.smolLM2Path)))
        try adapter.merge(into: params, baseName: "SmolLM2", adapterName: dir)
        let model = LlamaModel(parameters: params)
        let cache = KVCache(config: model.config, slots: 1, capacity: expected.ids.count)
        try model.forward([.init(slot: 0, tokens: expected.ids)], cache: cache, logits: .all)
        let got = model.logitsArray(expected.ids.count - 1)
        let err = TinyModelParityTests.relativeError(got, want)
        print("PEFT adapter (moves logits by \(expected.adapter_effect)): distill merged vs PEFT relative error \(err)")
        #expect(expected.adapter_effect > 0.01)
        #expect(err < 1e-4)
    }

    @Test func writtenAdaptersReadBackAndForeignBasesAreRefused() throws {
        let c = TinyModel.config
        let r = 2
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for l in 0..<c.layers {
            tensors["base_model.model.model.layers.\(l).self_attn.q_proj.lora_A.weight"] = ([r, c.dim], (0..<(r * c.dim)).map { Float($0 % 7) * 0.01 })
            tensors["base_model.model.model.layers.\(l).self_attn.q_proj.lora_B.weight"] = ([c.qDim, r], (0..<(c.qDim * r)).map { Float($0 % 5) * -0.02 })
        }
        let adapter = PEFTAdapter(config: .init(r: r, alpha: 4, dropout: 0, targetModules: ["q_proj"], baseModel: "tiny"), tensors: tensors)
        let dir = ModelFixtures.temporaryPath("adapter-rt")
        try adapter.write(to: dir)
        let back = try PEFTAdapter.read(dir)
        #expect(back.config == adapter.config)
        #expect(back.tensors.keys.sorted() == tensors.keys.sorted())
        #expect(back.tensors.keys.allSatisfy { back.tensors[$0]?.values == tensors[$0]?.values })

        // Merge: W + (alpha/r)·B·A, by hand for one entry.
        let p = LlamaParameters(config: c)
        p.randomize(seed: 3)
        let before = p.values(.wq, layer: 1)
        try back.merge(into: p, baseName: "tiny", adapterName: dir)
        let after = p.values(.wq, layer: 1)
        let (i, j) = (5, 9)
        let a = tensors["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"]!.values
        let b = tensors["base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight"]!.values
        let delta = (0..<r).reduce(Float(0)) { $0 + b[i * r + $1] * a[$1 * c.dim + j] } * 2
        #expect(abs(after[i * c.dim + j] - (before[i * c.dim + j] + delta)) < 1e-6)

        // Another base (other width): refused, naming the adapter's base.
        var other = c
        other.dim = 32
        other.hiddenDim = 64
        let e = try #require(throws: DataError.self) { try back.merge(into: LlamaParameters(config: other), baseName: "other.gguf", adapterName: dir) }
        #expect(e.message.contains("other.gguf") && e.message.contains("tiny"))
    }
}
