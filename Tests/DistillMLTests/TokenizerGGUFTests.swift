import Foundation
import Testing
@testable import DistillML

/// The GGUF bridge: the real SmolLM2 GGUF (skipped when absent), and small GGUFs written here from
/// the Qwen2/Llama 3 fixtures, so `tokenizer.ggml.*` loading is checked on every machine.
@Suite struct TokenizerGGUFTests {
    static let modelPath = ProcessInfo.processInfo.environment["DISTILL_MODEL_GGUF"]
        ?? "/root/.cache/distill/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let haveModel = FileManager.default.fileExists(atPath: modelPath)

    @Test(.enabled(if: haveModel, "SmolLM2-135M-Instruct.Q4_1.gguf not cached; run the set-up script to fetch it"))
    func smolLM2FromGGUFMatchesBothReferences() throws {
        let file = try GGUFFile(path: Self.modelPath)
        let cases = try TokenizerFixtures.corpus.get().cases
        // tokenizer.ggml.pre = "smollm": SmolLM2's own pre-tokenizer (digits isolated), as llama.cpp.
        let native = try Tokenizer(gguf: file)
        #expect(native.preTokenizer == .smollm)
        var (count, report) = TokenizerFixtures.mismatches(cases, expected: \.ids_pre) { native.encode($0, addSpecial: true) }
        #expect(count == 0, "\(count) of \(cases.count) differ from HF with Digits+ByteLevel:\(report)")
        // What transformers builds from this GGUF (GPT-2 splitting): the issue's reference.
        let asTransformers = try Tokenizer(gguf: file, preTokenizer: .gpt2)
        (count, report) = TokenizerFixtures.mismatches(cases, expected: \.ids) { asTransformers.encode($0, addSpecial: true) }
        #expect(count == 0, "\(count) of \(cases.count) differ from transformers on the GGUF:\(report)")

        #expect(native.vocabularySize == 49152)
        #expect(native.bosID == 1 && native.eosID == 2 && native.unknownID == 0 && native.paddingID == 2)
        #expect(native.specialIDs == Set(0...16))
        let json = try TokenizerFixtures.smolLM2.get()
        #expect((0..<native.vocabularySize).allSatisfy { native.tokenString($0) == json.tokenString($0) })
        #expect(native.chatTemplate == json.chatTemplate)
        #expect(native.chatTemplate.defaultSystemPrompt?.hasPrefix("You are a helpful AI assistant named SmolLM") == true)
    }

    /// Writes the vocabulary and merges of a fixture `tokenizer.json` as GGUF tokenizer metadata.
    private func ggufCopy(of fixture: String, pre: String, addBOS: Bool?) throws -> String {
        let data = try Data(contentsOf: TokenizerFixtures.directory.appendingPathComponent("\(fixture)/tokenizer.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        let vocab = try #require(model["vocab"] as? [String: Int])
        let added = try #require(root["added_tokens"] as? [[String: Any]])
        var tokens = [String](repeating: "", count: vocab.count)
        var types = [Int32](repeating: 1, count: vocab.count)
        for (t, id) in vocab { tokens[id] = t }
        for a in added { if let id = a["id"] as? Int { types[id] = 3 } }
        let merges: [String] = (model["merges"] as? [[String]])?.map { $0.joined(separator: " ") }
            ?? (model["merges"] as? [String]) ?? []
        #expect(merges.count > 100)
        var w = GGUFWriter()
        w.set("general.architecture", .string(fixture))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string(pre))
        w.set("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) }))
        w.set("tokenizer.ggml.token_type", .array(.int32, types.map { .int32($0) }))
        w.set("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))
        if let bos = added.first?["id"] as? Int { w.set("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos))) }
        if let addBOS { w.set("tokenizer.ggml.add_bos_token", .bool(addBOS)) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(fixture)-\(UUID().uuidString).gguf").path
        try w.write(to: path)
        return path
    }

    @Test func qwen2GGUFMatchesHF() throws {
        let path = try ggufCopy(of: "qwen2", pre: "qwen2", addBOS: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tok = try Tokenizer(ggufAt: path)
        #expect(tok.preTokenizer == .qwen2)
        let cases = try TokenizerFixtures.corpus.get().cases
        let (count, report) = TokenizerFixtures.mismatches(cases, expected: \.qwen2) { tok.encode($0, addSpecial: true) }
        #expect(count == 0, "\(count) of \(cases.count) differ:\(report)")
    }

    @Test func llama3GGUFAddsBOSByDefaultAndMatchesHF() throws {
        let path = try ggufCopy(of: "llama3", pre: "llama-bpe", addBOS: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tok = try Tokenizer(ggufAt: path)
        #expect(tok.preTokenizer == .llama3)
        let cases = try TokenizerFixtures.corpus.get().cases
        let (count, report) = TokenizerFixtures.mismatches(cases, expected: \.llama3) { tok.encode($0, addSpecial: true) }
        #expect(count == 0, "\(count) of \(cases.count) differ:\(report)")
    }

    @Test func unsupportedGGUFTokenizersAreRefusedClearly() throws {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("tokenizer.ggml.model", .string("llama"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tok-spm-\(UUID().uuidString).gguf").path
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try Tokenizer(ggufAt: path)
            Issue.record("a SentencePiece GGUF must be refused")
        } catch let e as TokenizerError {
            #expect(e.isUnsupported && e.field == "tokenizer.ggml.model" && e.description.hasPrefix(path))
        }

        let bogusPre = try ggufCopy(of: "qwen2", pre: "mystery-pre", addBOS: nil)
        defer { try? FileManager.default.removeItem(atPath: bogusPre) }
        #expect(throws: TokenizerError.self) { try Tokenizer(ggufAt: bogusPre) }
    }
}
