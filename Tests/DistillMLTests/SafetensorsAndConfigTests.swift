import Foundation
import Testing
@testable import DistillML

@Suite struct SafetensorsAndConfigTests {
    @Test func safetensorsRoundTripsAndReadsHalfPrecision() throws {
        let path = ModelFixtures.temporaryPath("rt.safetensors")
        var w = SafetensorsWriter()
        w.add("b.weight", shape: [2, 3], values: [1, -2, 3.5, 0, 1e-3, -7])
        w.add("a.bias", shape: [3], values: [0.25, 0.5, 0.75])
        try w.write(to: path)
        let f = try SafetensorsFile(path: path)
        #expect(f.tensors.keys.sorted() == ["a.bias", "b.weight"])
        let info = try #require(f.tensors["b.weight"])
        #expect(info.shape == [2, 3] && info.dtype == "F32")
        var out = [Float](repeating: 0, count: 6)
        try out.withUnsafeMutableBufferPointer { try f.read(info, into: $0.baseAddress!) }
        #expect(out == [1, -2, 3.5, 0, 1e-3, -7])
        #expect(f.metadata["format"] == "pt")

        // A hand-made F16 + BF16 file (the layout the reference writer produces).
        let header = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        bytes += GGMLEncode.f16([1.5, -0.25]) + GGMLEncode.bf16([3.0, -1.0])
        let half = ModelFixtures.temporaryPath("half.safetensors")
        try Data(bytes).write(to: URL(fileURLWithPath: half))
        let h = try SafetensorsFile(path: half)
        var two = [Float](repeating: 0, count: 2)
        try two.withUnsafeMutableBufferPointer { try h.read(try #require(h.tensors["h"]), into: $0.baseAddress!) }
        #expect(two == [1.5, -0.25])
        try two.withUnsafeMutableBufferPointer { try h.read(try #require(h.tensors["b"]), into: $0.baseAddress!) }
        #expect(two == [3.0, -1.0])
    }

    @Test func truncatedOrCorruptSafetensorsAreClearErrors() throws {
        let path = ModelFixtures.temporaryPath("ok.safetensors")
        var w = SafetensorsWriter()
        w.add("x", shape: [16], values: (0..<16).map(Float.init))
        try w.write(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let bad = ModelFixtures.temporaryPath("bad.safetensors")
        for cut in [1, 7, 8, 20, good.count - 1] {
            try good.prefix(cut).write(to: URL(fileURLWithPath: bad))
            #expect(throws: DistillMLError.self, "cut at \(cut)") { try SafetensorsFile(path: bad) }
        }
        var absurd = good
        absurd.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Data($0) })
        try absurd.write(to: URL(fileURLWithPath: bad))
        #expect(throws: DistillMLError.self) { try SafetensorsFile(path: bad) }
    }

    @Test func hfConfigErrorsNameTheField() throws {
        let dir = ModelFixtures.temporaryPath("cfg")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func error(_ json: String) throws -> String {
            try json.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            do { _ = try LlamaConfig(hfConfigPath: dir + "/config.json"); return "accepted" } catch { return "\(error)" }
        }
        let base = #""model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 96, "vocab_size": 100"#
        #expect(try error("{\(base)}") == "accepted")
        #expect(try error(#"{"model_type": "gpt2"}"#).contains("'gpt2' is not supported"))
        #expect(try error(#"{"model_type": "llama", "hidden_size": 64}"#).contains("field 'num_attention_heads'"))
        #expect(try error("{\(base), \"rope_scaling\": {\"type\": \"linear\"}}").contains("RoPE type 'linear' is not supported"))
        #expect(try error("{\(base), \"num_key_value_heads\": 3}").contains("not a multiple"))
        #expect(try error("not json").contains("not a JSON object"))
    }

    @Test func ggufWithoutHyperparametersNamesTheKey() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        try w.addTensor("token_embd.weight", dims: [4, 8], values: [Float](repeating: 0, count: 32))
        let path = ModelFixtures.temporaryPath("nohparams.gguf")
        try w.write(to: path)
        do {
            _ = try LlamaConfig(gguf: GGUFFile(path: path))
            Issue.record("accepted a GGUF without hyper-parameters")
        } catch {
            #expect("\(error)".contains("llama."))
        }
        var mamba = GGUFWriter()
        mamba.set("general.architecture", .string("mamba"))
        try mamba.write(to: path)
        #expect(throws: DistillMLError.self) { try LlamaConfig(gguf: GGUFFile(path: path)) }
    }
}
