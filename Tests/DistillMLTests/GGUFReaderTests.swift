import Foundation
import Testing
@testable import DistillML

@Suite struct GGUFReaderTests {
    /// A small file with every metadata type (nested arrays, CJK and emoji strings) and two tensors.
    static func sampleWriter(alignment: Int = 32) throws -> GGUFWriter {
        var w = GGUFWriter(alignment: alignment)
        w.set("general.architecture", .string("llama"))
        w.set("general.name", .string("小模型 🦙"))
        w.set("t.u8", .uint8(250)); w.set("t.i8", .int8(-5)); w.set("t.u16", .uint16(65000)); w.set("t.i16", .int16(-300))
        w.set("t.u32", .uint32(4_000_000_000)); w.set("t.i32", .int32(-7)); w.set("t.f32", .float32(1.5))
        w.set("t.bool", .bool(true)); w.set("t.u64", .uint64(1 << 40)); w.set("t.i64", .int64(-1 << 40)); w.set("t.f64", .float64(0.25))
        w.set("tokenizer.ggml.tokens", .array(.string, ["<|endoftext|>", "你好", "😀", "Ġthe", ""].map { .string($0) }))
        w.set("tokenizer.ggml.token_type", .array(.int32, [3, 1, 1, 1, 1].map { .int32($0) }))
        w.set("t.scores", .array(.float32, [0.5, -1].map { .float32($0) }))
        w.set("t.nested", .array(.array, [.array(.uint8, [.uint8(1)]), .array(.string, [])]))
        w.set("t.empty", .array(.int32, []))
        try w.addTensor("a.weight", dims: [4, 3], values: (0..<12).map { Float($0) - 5.5 })
        try w.addTensor("b.weight", dims: [32, 2], values: (0..<64).map { sin(Float($0)) }, as: .q8_0)
        return w
    }

    @Test func roundTripsEveryMetadataTypeAndTensorTable() throws {
        let path = ModelFixtures.temporaryPath("sample.gguf")
        try Self.sampleWriter().write(to: path)
        let f = try GGUFFile(path: path)
        #expect(f.version == 3)
        #expect(f.architecture == "llama")
        #expect(f.string("general.name") == "小模型 🦙")
        #expect(f.int("t.u8") == 250 && f.int("t.i8") == -5 && f.int("t.u16") == 65000 && f.int("t.i16") == -300)
        #expect(f.int("t.u32") == 4_000_000_000 && f.int("t.i32") == -7 && f.int("t.u64") == 1 << 40 && f.int("t.i64") == -1 << 40)
        #expect(f.float("t.f32") == 1.5 && f.double("t.f64") == 0.25 && f.bool("t.bool") == true)
        #expect(f.stringArray("tokenizer.ggml.tokens") == ["<|endoftext|>", "你好", "😀", "Ġthe", ""])
        #expect(f.intArray("tokenizer.ggml.token_type") == [3, 1, 1, 1, 1])
        #expect(f.floatArray("t.scores") == [0.5, -1])
        #expect(f.intArray("t.empty") == [])
        #expect(f.metadata["t.nested"] == .array(.array, [.array(.uint8, [.uint8(1)]), .array(.string, [])]))
        #expect(f.metadataKeys.first == "general.architecture")
        #expect(f.string("t.u8") == nil && f.int("general.name") == nil)  // wrong type reads as absent
        #expect(f.tensors.map(\.name) == ["a.weight", "b.weight"])
        let a = try #require(f.tensor(named: "a.weight"))
        #expect(a.dims == [4, 3] && a.type == .f32 && a.byteCount == 48)
        #expect(a.fileOffset % 32 == 0 && f.dataOffset % 32 == 0)
        let b = try #require(f.tensor(named: "b.weight"))
        #expect(b.type == .q8_0 && b.byteCount == 68 && b.fileOffset % 32 == 0)
        let aValues = f.bytes(of: a).withMemoryRebound(to: Float.self) { Array($0) }
        #expect(aValues == (0..<12).map { Float($0) - 5.5 })
    }

    @Test func honoursCustomAlignment() throws {
        let path = ModelFixtures.temporaryPath("aligned64.gguf")
        try Self.sampleWriter(alignment: 64).write(to: path)
        let f = try GGUFFile(path: path)
        #expect(f.alignment == 64 && f.int("general.alignment") == 64)
        #expect(f.tensors.allSatisfy { $0.fileOffset % 64 == 0 })
    }

    /// Every truncation of a valid file is an error naming the file, never a crash or a half-read model.
    @Test func everyTruncationIsAClearError() throws {
        let bytes = try Self.sampleWriter().serialized()
        let path = ModelFixtures.temporaryPath("truncated.gguf")
        // Trailing padding after the last tensor's data is optional, so cutting it leaves a valid file.
        let f = try GGUFFile(path: { try Data(bytes).write(to: URL(fileURLWithPath: path)); return path }())
        let end = try #require(f.tensors.map { $0.fileOffset + $0.byteCount }.max())
        for length in 0..<end where length < 300 || length % 5 == 0 || length > end - 40 {
            try Data(bytes[0..<length]).write(to: URL(fileURLWithPath: path))
            do {
                _ = try GGUFFile(path: path)
                Issue.record("a file truncated to \(length) of \(bytes.count) bytes was accepted")
            } catch let e as DistillMLError {
                #expect(e.file == path)
                #expect(!e.message.isEmpty)
            }
        }
    }

    @Test func corruptHeadersAreRejectedWithTheReason() throws {
        let good = try Self.sampleWriter().serialized()
        let path = ModelFixtures.temporaryPath("corrupt.gguf")
        func error(_ mutate: (inout [UInt8]) -> Void) throws -> String {
            var b = good
            mutate(&b)
            try Data(b).write(to: URL(fileURLWithPath: path))
            do { _ = try GGUFFile(path: path); return "accepted" } catch { return "\(error)" }
        }
        #expect(try error { $0[0] = 0x00 }.contains("not a GGUF file"))
        #expect(try error { $0[4] = 9 }.contains("unsupported GGUF version 9"))
        #expect(try error { $0[16] = 0xFF; $0[23] = 0x7F }.contains("claims"))  // absurd metadata count
        #expect(try error { $0 = Array("{\"not\": \"gguf\"}".utf8) }.contains("not a GGUF file"))
    }

    @Test(.enabled(if: ModelFixtures.hasSmolLM2, "SmolLM2-135M-Instruct.Q4_1.gguf not cached; run `distill models pull`"))
    func readsTheEmbeddedDefaultModel() throws {
        let f = try GGUFFile(path: try #require(ModelFixtures.smolLM2Path))
        #expect(f.architecture == "llama")
        #expect(f.int("llama.block_count") == 30)
        #expect(f.int("llama.embedding_length") == 576)
        #expect(f.stringArray("tokenizer.ggml.tokens")?.count == 49152)
        #expect(f.string("tokenizer.ggml.pre") == "smollm")
        #expect(f.tensors.count == 2 + 30 * 9)
        #expect(f.tensor(named: "token_embd.weight")?.dims == [576, 49152])
    }
}
