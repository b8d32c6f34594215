import Foundation
import Testing
@testable import DistillML

/// One tokenizer shared by many tasks (the engine encodes thousands of prompts in parallel) gives
/// the same ids as one caller, while the word cache fills from all sides.
@Suite struct TokenizerConcurrencyTests {
    @Test func parallelEncodingEqualsSerial() async throws {
        let texts = try TokenizerFixtures.corpus.get().cases.map(\.text)
        let serialTokenizer = try Tokenizer(tokenizerJSONAt: TokenizerFixtures.path("qwen2/tokenizer.json"))
        let shared = try Tokenizer(tokenizerJSONAt: TokenizerFixtures.path("qwen2/tokenizer.json"))
        let serial = texts.map { serialTokenizer.encode($0) }
        let parallel = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, t) in texts.enumerated() { group.addTask { (i, shared.encode(t)) } }
            var out = [[Int]](repeating: [], count: texts.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(parallel == serial)
    }
}
