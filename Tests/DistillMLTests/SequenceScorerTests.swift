import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// `SequenceScorer` gives each answer token's log-probability as the model's own full-sequence pass does, and items
/// scored together equal items scored alone.
@Suite struct SequenceScorerTests {
    @Test func scoresMatchTheLogSoftmaxOfOneFullPassAndDoNotDependOnTheBatch() throws {
        let path = ModelFixtures.temporaryPath("scorer-tiny.gguf")
        try TinyModel.writeGGUF(to: path)
        let lm = try LanguageModel(path: path, precision: .exact)
        let items = ["把这句话翻译成英文", "2+2=?", "Name a colour 🎨"].enumerated().map { i, q in
            SequenceScorer.Item(prompt: lm.chatPrompt([(role: "user", content: q)]),
                                answer: lm.tokenizer.encode(["I like cats.", "4", "蓝色"][i], addSpecial: false))
        }
        let together = try SequenceScorer(model: lm.model, batch: 3).logprobs(items)
        for (i, item) in items.enumerated() {
            let alone = try SequenceScorer(model: lm.model, batch: 1).logprobs([item])[0]
            // Reference: one pass over prompt + answer, log-softmax by hand in Double.
            let cache = KVCache(config: lm.model.config, slots: 1, capacity: item.prompt.count + item.answer.count)
            try lm.model.forward([.init(slot: 0, tokens: item.prompt + item.answer)], cache: cache, logits: .all)
            let expected = item.answer.enumerated().map { j, token -> Double in
                let row = lm.model.logitsArray(item.prompt.count - 1 + j).map(Double.init)
                let m = row.max() ?? 0
                return row[token] - m - log(row.reduce(0) { $0 + exp($1 - m) })
            }
            #expect(together[i].count == item.answer.count)
            for j in expected.indices {
                #expect(abs(Double(together[i][j]) - expected[j]) < 1e-4)
                #expect(abs(Double(alone[j]) - expected[j]) < 1e-4)
            }
        }
        #expect(throws: DistillMLError.self) { try SequenceScorer(model: lm.model).logprobs([.init(prompt: [1], answer: [])]) }
    }
}
