import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// GGUF LoRA adapters for llama.cpp's `--lora`: the PEFT fixture written by `PEFTAdapter.writeGGUF` matches, tensor
/// by tensor and byte for byte, what llama.cpp's own convert_lora_to_gguf.py wrote from it (digests in
/// Fixtures/gguf_lora/expected.json, made by scripts/fixtures/make_gguf_lora_fixture.py); a written file reads back
/// with our GGUF reader, q/k lora_b rows permuted like the base's; a foreign base is refused.
@Suite struct GGUFLoRAAdapterTests {
    /// SmolLM2-135M's shapes (the fixture adapter's base); no weights are needed to write an adapter.
    static let smolLM2 = LlamaConfig(architecture: "llama", layers: 30, dim: 576, hiddenDim: 1536, heads: 9, kvHeads: 3,
                                     vocabSize: 49152)

    @Test func matchesWhatLlamaCppsConverterWrites() throws {
        struct Expected: Decodable {
            struct Tensor: Decodable { var name: String; var dims: [Int]; var type: String; var sha256: String }
            struct Metadata: Decodable {
                var arch: String, type: String, adapterType: String, alpha: Double
                enum CodingKeys: String, CodingKey {
                    case arch = "general.architecture", type = "general.type", adapterType = "adapter.type", alpha = "adapter.lora.alpha"
                }
            }
            var metadata: Metadata
            var tensors: [Tensor]
        }
        let fixtures = ModelFixtures.fixturesDir
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/gguf_lora/expected.json")))
        let adapter = try PEFTAdapter.read(fixtures + "/peft_adapter")
        let path = ModelFixtures.temporaryPath("lora.gguf")
        try adapter.writeGGUF(to: path, base: Self.smolLM2)
        let file = try GGUFFile(path: path)
        #expect(file.string("general.architecture") == expected.metadata.arch)
        #expect(file.string("general.type") == expected.metadata.type)
        #expect(file.string("adapter.type") == expected.metadata.adapterType)
        #expect(file.double("adapter.lora.alpha") == expected.metadata.alpha)
        #expect(file.tensors.map(\.name) == expected.tensors.map(\.name))
        for want in expected.tensors {
            let got = try #require(file.tensor(named: want.name))
            #expect(got.dims == want.dims, "\(want.name)")
            #expect("\(got.type)".uppercased() == want.type, "\(want.name)")
            #expect(SHA256.hex(Data(file.bytes(of: got))) == want.sha256, "\(want.name): bytes differ from llama.cpp's")
        }
    }

    @Test func writtenFileReadsBackWithPermutedQKRows() throws {
        let c = TinyModel.config
        let r = 3
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        let modules: [(String, String, Int, Int)] = [("self_attn", "q_proj", c.qDim, c.dim), ("self_attn", "k_proj", c.kvDim, c.dim),
                                                     ("mlp", "down_proj", c.dim, c.hiddenDim)]
        for l in 0..<c.layers {
            for (group, m, rows, cols) in modules {
                let p = "base_model.model.model.layers.\(l).\(group).\(m)"
                tensors[p + ".lora_A.weight"] = ([r, cols], (0..<(r * cols)).map { Float(($0 + l) % 11) * 0.01 })
                tensors[p + ".lora_B.weight"] = ([rows, r], (0..<(rows * r)).map { Float($0) * 0.001 - Float(l) })
            }
        }
        let adapter = PEFTAdapter(config: .init(r: r, alpha: 6, dropout: 0, targetModules: ["down_proj", "k_proj", "q_proj"],
                                                baseModel: "tiny"), tensors: tensors)
        let path = ModelFixtures.temporaryPath("tiny-lora.gguf")
        try adapter.writeGGUF(to: path, base: c, name: "tiny 🙂 适配器")
        let file = try GGUFFile(path: path)
        #expect(file.string("general.type") == "adapter" && file.string("adapter.type") == "lora")
        #expect(file.float("adapter.lora.alpha") == 6)
        #expect(file.string("general.name") == "tiny 🙂 适配器")
        #expect(file.tensors.count == c.layers * modules.count * 2)
        func values(_ name: String) throws -> [Float] {
            let t = try #require(file.tensor(named: name))
            #expect(t.type == .f32)
            return Array(file.bytes(of: t).bindMemory(to: Float.self))
        }
        for l in 0..<c.layers {
            let p = "base_model.model.model.layers.\(l)."
            // A is stored as is (ggml dims [in, r]); B as [r, out] with q/k rows in the GGUF RoPE order.
            #expect(try #require(file.tensor(named: "blk.\(l).attn_q.weight.lora_a")).dims == [c.dim, r])
            #expect(try #require(file.tensor(named: "blk.\(l).attn_q.weight.lora_b")).dims == [r, c.qDim])
            #expect(try values("blk.\(l).attn_q.weight.lora_a") == tensors[p + "self_attn.q_proj.lora_A.weight"]?.values)
            #expect(try values("blk.\(l).ffn_down.weight.lora_b") == tensors[p + "mlp.down_proj.lora_B.weight"]?.values)
            for (m, gguf) in [("q_proj", "attn_q"), ("k_proj", "attn_k")] {
                let hf = try #require(tensors[p + "self_attn.\(m).lora_B.weight"]).values
                let got = try values("blk.\(l).\(gguf).weight.lora_b")
                #expect(got != hf, "rows must be permuted")
                for row in 0..<(hf.count / r) {
                    let g = LlamaParameters.ggufRow(ofHFRow: row, headDim: c.headDim)
                    #expect(Array(got[(g * r)..<(g * r + r)]) == Array(hf[(row * r)..<(row * r + r)]))
                }
            }
        }

        // Another base (other width): refused, naming the base the adapter came from.
        var other = c
        other.dim = 32
        #expect {
            try adapter.writeGGUF(to: ModelFixtures.temporaryPath("x.gguf"), base: other, adapterName: "a", baseName: "narrow")
        } throws: { "\($0)".contains("narrow") && "\($0)".contains("tiny") }
    }
}
