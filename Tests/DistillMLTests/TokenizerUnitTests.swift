import Foundation
import Testing
@testable import DistillML

/// Pieces of the tokenizer checked on their own: pre-tokenizer splits (expected splits are HF
/// `pre_tokenize_str` output for the same pattern), the byte table, BPE on long words, the
/// streaming decoder's hold-back, and errors on bad files.
@Suite struct TokenizerUnitTests {
    private func words(_ text: String, _ kind: PreTokenizerKind) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let values = scalars.map(\.value)
        let classes = values.map(CharClass.of)
        var ranges: [(Int, Int)] = []
        values.withUnsafeBufferPointer { v in
            classes.withUnsafeBufferPointer { c in PreTokenizer(kind: kind).split(v, c, into: &ranges) }
        }
        return ranges.map { a, b in String(String.UnicodeScalarView(scalars[a..<b])) }
    }

    @Test func gpt2Splits() {
        #expect(words("Hello  world's 123!!", .gpt2) == ["Hello", " ", " world", "'s", " 123", "!!"])
        #expect(words("a \n\tb  ", .gpt2) == ["a", " \n", "\t", "b", "  "])
        #expect(words("I'LL", .gpt2) == ["I", "'", "LL"])  // GPT-2's contractions are case-sensitive
    }

    @Test func smolLMIsolatesDigitsFirst() {
        #expect(words("a  12", .smollm) == ["a", "  ", "1", "2"])
        #expect(words("a  12", .gpt2) == ["a", " ", " 12"])
    }

    @Test func llama3AndQwen2Splits() {
        #expect(words("I'LL pay 12345 yuan", .llama3) == ["I", "'LL", " pay", " ", "123", "45", " yuan"])
        #expect(words("12345", .qwen2) == ["1", "2", "3", "4", "5"])
        #expect(words("(word ((x \n\n  y", .llama3) == ["(word", " ((", "x", " \n\n", " ", " y"])
        #expect(words("你好，世界", .qwen2) == ["你好", "，世界"])
    }

    @Test func byteTableIsABijection() {
        let chars = Set(ByteLevel.characterOfByte.map(\.value))
        #expect(chars.count == 256)
        #expect(ByteLevel.encode(Array(" hi\n".utf8)) == "Ġhi\u{010A}")
        #expect(ByteLevel.decode("Ġhi") == Array(" hi".utf8))
        #expect(ByteLevel.decode("<|im_start|>") == Array("<|im_start|>".utf8))
        #expect(ByteLevel.decode("中") == nil)
    }

    @Test func heapAndLinearMergesAgree() throws {
        let tok = try TokenizerFixtures.smolLM2.get()
        var words = try TokenizerFixtures.corpus.get().cases.flatMap { $0.text.split(separator: " ").map(String.init) }
        words.append(String(repeating: "蒸馏模型学习数据", count: 375))  // one 9000-byte pre-token
        var compared = 0
        for word in words where !word.isEmpty {
            let bytes = Array(word.utf8)
            var linear: [Int32] = [], heap: [Int32] = []
            bytes.withUnsafeBufferPointer { buf in
                tok.bpe.encodeWord(buf, into: &linear, linearLimit: .max)
                tok.bpe.encodeWord(buf, into: &heap, linearLimit: 0)
            }
            #expect(linear == heap, "\(word.debugDescription.prefix(40))")
            compared += 1
        }
        #expect(compared > 1000)
    }

    @Test func streamingHoldsBackSplitCharacters() {
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE4, 0xBD]) == 1)  // "a" + 2 of 3 bytes of 你
        #expect(StreamingDecoder.completePrefixLength([0xE4, 0xBD, 0xA0]) == 3)
        #expect(StreamingDecoder.completePrefixLength([0xF0, 0x9F, 0x98]) == 0)  // 3 of 4 bytes of 😀
        #expect(StreamingDecoder.completePrefixLength([0x80]) == 1)  // a stray continuation byte is not held
    }

    @Test func specialTokensSplitOutOfText() throws {
        let tok = try TokenizerFixtures.smolLM2.get()
        let ids = tok.encode("a<|im_start|>b<|im_end|>")
        #expect(ids.contains(1) && ids.contains(2))
        #expect(tok.decode(ids) == "a<|im_start|>b<|im_end|>")
        #expect(tok.decode(ids, skipSpecial: true) == "ab")
        let plain = tok.encode("a<|im_start|>b", parseSpecial: false)
        #expect(!plain.contains(1) && plain.count > 3)
        #expect(tok.decode(plain) == "a<|im_start|>b")
        #expect(tok.specialIDs.contains(1) && tok.vocabularySize == 49152)
        #expect(tok.id(of: "Ġworld") != nil && tok.tokenString(tok.id(of: "Ġworld") ?? -1) == "Ġworld")
    }

    @Test func badFilesGiveClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.json").path
        #expect(throws: TokenizerError.self) { try Tokenizer(tokenizerJSONAt: missing) }

        let wordPiece = dir.appendingPathComponent("tokenizer.json")
        try Data(#"{"model": {"type": "WordPiece", "vocab": {}}}"#.utf8).write(to: wordPiece)
        do {
            _ = try Tokenizer(tokenizerJSONAt: wordPiece.path)
            Issue.record("a WordPiece file must be refused")
        } catch let e as TokenizerError {
            #expect(e.isUnsupported && e.field == "model.type" && e.description.contains("WordPiece"))
        }

        try Data(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}, "pre_tokenizer": null}"#.utf8).write(to: wordPiece)
        do {
            _ = try Tokenizer(tokenizerJSONAt: wordPiece.path)
            Issue.record("a bad merge must be refused")
        } catch let e as TokenizerError {
            #expect(e.field == "model.merges[0]" && e.description.hasPrefix(wordPiece.path))
        }
    }
}
