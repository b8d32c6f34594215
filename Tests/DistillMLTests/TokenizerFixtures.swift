import Foundation
@testable import DistillML

/// The committed golden files from `scripts/fixtures/make_tokenizer_fixture.py`, decoded once.
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer")

    /// One corpus string and its ids from each reference tokenizer.
    struct Case: Decodable {
        var text: String
        /// transformers on the SmolLM2 GGUF (GPT-2 pre-tokenizer).
        var ids: [Int]
        var decoded: String
        /// The SmolLM2 vocabulary with the `smollm` pre-tokenizer (digits isolated first).
        var ids_pre: [Int]
        var qwen2: [Int]
        var llama3: [Int]
        /// Fuzz files only: false where HF's NFC (older Unicode tables) disagrees with Python's.
        var nfc_agrees: Bool?
    }

    struct Corpus: Decodable {
        var gguf: String
        var cases: [Case]
    }

    struct Message: Decodable {
        var role: String
        var content: String
    }

    /// One `apply_chat_template` render.
    struct ChatCase: Decodable {
        var tokenizer: String
        var template: String
        var messages: [Message]
        var add_generation_prompt: Bool
        var text: String
        var ids: [Int]
    }

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    static func load<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(relative))
        return try JSONDecoder().decode(T.self, from: data)
    }

    static let corpus: Result<Corpus, Error> = Result { try load(Corpus.self, "corpus.json") }
    static let chats: Result<[ChatCase], Error> = Result { try load([ChatCase].self, "chat.json") }

    static let smolLM2: Result<Tokenizer, Error> = Result { try Tokenizer(tokenizerJSONAt: path("smollm2/tokenizer.json")) }
    static let qwen2: Result<Tokenizer, Error> = Result { try Tokenizer(tokenizerJSONAt: path("qwen2/tokenizer.json")) }
    static let llama3: Result<Tokenizer, Error> = Result { try Tokenizer(tokenizerJSONAt: path("llama3/tokenizer.json")) }

    /// The first few mismatches, for a readable failure message.
    static func mismatches(_ cases: [Case], expected: (Case) -> [Int], actual: (String) -> [Int]) -> (count: Int, report: String) {
        var count = 0
        var report = ""
        for c in cases {
            let got = actual(c.text)
            let want = expected(c)
            guard got != want else { continue }
            count += 1
            if count <= 5 { report += "\n\(c.text.debugDescription.prefix(80)): want \(want.prefix(24)) got \(got.prefix(24))" }
        }
        return (count, report)
    }
}
