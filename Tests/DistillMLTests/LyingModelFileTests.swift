import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// Regression tests for the crafted model and tokenizer files that crashed the engine (traps, divisions by zero,
/// terabyte allocations): each is now an error naming the file, where in it, and what was found.
struct LyingModelFileTests {
    let dir: String

    init() throws {
        dir = ModelFixtures.temporaryPath("lying-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    // MARK: tokenizer.json

    func tokenizer(vocabID: Int? = nil, addedID: Int? = nil) throws -> String {
        var root = try #require(try JSONSerialization.jsonObject(with: FuzzSeeds.tokenizerJSON()) as? [String: Any])
        if let vocabID {
            var model = try #require(root["model"] as? [String: Any])
            var vocab = try #require(model["vocab"] as? [String: Int])
            vocab["Ġt"] = vocabID
            model["vocab"] = vocab
            root["model"] = model
        }
        if let addedID {
            var added = try #require(root["added_tokens"] as? [[String: Any]])
            added[0]["id"] = addedID
            root["added_tokens"] = added
        }
        let path = dir + "/tokenizer.json"
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [Int.max, 100_000_000_000, -1])
    func aVocabularyIDOutOfRangeIsAnError(id: Int) throws {
        let path = try tokenizer(vocabID: id)
        let e = try #require(throws: TokenizerError.self) { try Tokenizer(tokenizerJSONAt: path) }
        #expect(e.file == path && e.field == "model.vocab" && e.message.contains("id \(id)"), "\(e)")
    }

    @Test(arguments: [1 << 31, 100_000_000_000])
    func anAddedTokenIDOutOfRangeIsAnError(id: Int) throws {
        let path = try tokenizer(addedID: id)
        let e = try #require(throws: TokenizerError.self) { try Tokenizer(tokenizerJSONAt: path) }
        #expect(e.file == path && e.field == "added_tokens[0].id" && e.message.contains("\(id)"), "\(e)")
    }

    // MARK: config.json

    func hfFolder(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let folder = dir + "/hf"
        try FuzzSeeds.writeHuggingFace(to: folder)
        let path = folder + "/config.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return folder
    }

    @Test func configWithZeroOrNonDividingKeyValueHeadsIsAnError() throws {
        for (kv, words) in [(0, "key/value heads is 0"), (-2, "key/value heads is -2"), (3, "not a multiple of 3")] {
            let folder = try hfFolder { $0["num_key_value_heads"] = kv }
            let e = try #require(throws: DistillMLError.self) { try LanguageModel(path: folder, precision: .exact) }
            #expect(e.file == folder + "/config.json" && e.message.contains(words), "\(e)")
        }
    }

    @Test func configClaimingMoreThanTheWeightsIsAnErrorBeforeAllocating() throws {
        for (key, value) in [("num_hidden_layers", 100_000), ("vocab_size", 1 << 34), ("hidden_size", 1 << 40)] {
            let folder = try hfFolder { $0[key] = value }
            let e = try #require(throws: DistillMLError.self) { try LanguageModel(path: folder, precision: .exact) }
            #expect(e.file.hasPrefix(folder), "\(e)")
        }
    }

    // MARK: safetensors

    func safetensors(_ header: String, dataBytes: Int) throws -> String {
        var d = Data()
        var json = Data(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(json)
        d.append(Data(repeating: 0, count: dataBytes))
        let path = dir + "/crafted.safetensors"
        try d.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func safetensorsShapesAndOffsetsThatOverflowAreErrors() throws {
        let cases = [
            (#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#, "needs more bytes"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}}"#, "outside"),
            (#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,4]}}"#, "needs 16"),
            (#"{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#, "shape"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, "overlaps"),
        ]
        for (header, words) in cases {
            let path = try safetensors(header, dataBytes: 16)
            let e = try #require(throws: DistillMLError.self) { try SafetensorsFile(path: path) }
            #expect(e.file == path && e.location?.hasPrefix("tensor '") == true && e.message.contains(words), "\(header): \(e)")
        }
    }

    // MARK: GGUF

    /// Overwrites the value of metadata `key` (an integer of the width its type says) in a GGUF file.
    func patch(_ path: String, key: String, to value: UInt64) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array(key.utf8)
        // The key as a whole GGUF string: its u64 length, then its bytes ("head_count" is a prefix of "head_count_kv").
        let length = withUnsafeBytes(of: UInt64(needle.count).littleEndian) { Array($0) }
        func matches(_ i: Int) -> Bool {
            Array(bytes[i..<(i + needle.count)]) == needle && Array(bytes[(i - 8)..<i]) == length
        }
        let found: Int? = (8...(bytes.count - needle.count)).first(where: matches)
        let at = try #require(found)
        let typeAt = at + needle.count
        let width = [4: 4, 5: 4, 10: 8, 11: 8][Int(bytes[typeAt])] ?? 4
        for k in 0..<width { bytes[typeAt + 4 + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: [("llama.attention.head_count_kv", UInt64(0), "key/value heads is 0"),
                      ("llama.block_count", 100_000, "blk.1."),
                      ("llama.embedding_length", 0xFFFF_FFFF, "4294967295"),
                      ("llama.feed_forward_length", 1 << 31, "ffn_gate"),
                      ("llama.attention.head_count", 0, "missing or not a positive integer")])
    func ggufMetadataThatLiesIsAnError(key: String, value: UInt64, words: String) throws {
        let path = dir + "/lying.gguf"
        try FuzzSeeds.writeGGUF(to: path)
        try patch(path, key: key, to: value)
        let e = try #require(throws: DistillMLError.self) { try LanguageModel(path: path, precision: .exact) }
        #expect(e.file == path && e.description.contains(words), "\(key) = \(value): \(e)")
    }

    @Test func aDirectoryGivenAsAModelFileSaysSo() throws {
        let e = try #require(throws: DistillMLError.self) { try GGUFFile(path: dir) }
        #expect(e.file == dir && e.message.contains("is a directory"), "\(e)")
    }

    // MARK: precision

    @Test func aModelWithHidden48RunsInTheDefaultPrecisionByFallingBackToExact() throws {
        let path = dir + "/hidden48.gguf"
        try FuzzSeeds.writeGGUF(FuzzSeeds.hidden48Config, to: path, type: .q8_0)
        let lm = try LanguageModel(path: path)
        #expect(lm.precision == .exact && lm.model.quantized == nil)
        let note = try #require(lm.precisionNote)
        #expect(note.contains("hidden size 48") && note.contains("'exact'"), "\(note)")
        var text: String?
        try lm.generator(slots: 1, capacity: 32).generate(
            [GenerationRequest(id: 0, prompt: lm.chatPrompt([(role: "user", content: "你好 🐱")]), maxTokens: 4)]) { text = $0.text }
        #expect(text != nil)
        // The same file in exact precision gives the same greedy text: the fallback is the exact path.
        let exact = try LanguageModel(path: path, precision: .exact)
        #expect(exact.precisionNote == nil)
    }
}
