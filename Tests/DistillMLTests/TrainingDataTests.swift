import DistillData
import Foundation
import Testing
@testable import DistillML

/// Training data: every harvest output shape and the usual fine-tuning files read as they are, drops counted,
/// loss masks equal to transformers' (fixture by scripts/fixtures/make_training_tokens_fixture.py), packing.
@Suite struct TrainingDataTests {
    static func write(_ name: String, _ lines: [String]) throws -> String {
        let path = ModelFixtures.temporaryPath(name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func readsEveryHarvestShapeAndTheUsualFiles() throws {
        let path = try Self.write("shapes.jsonl", [
            #"{"id":"1","instruction":"Add","input":"2 3","output":"5","sample":0,"finish_reason":"stop"}"#,         // answer
            #"{"id":"2","instruction":"Cut","input":"","output":"half","finish_reason":"length"}"#,                  // truncated
            #"{"input":"英文: cat","output":"猫"}"#,                                                                  // generate-data
            #"{"id":"3","question":"2+2?","rationale":"two and two","answer":"4","gold":"4","correct":true,"path":0}"#, // cot
            #"{"id":"3","question":"2+2?","rationale":"wrong","answer":"5","gold":"4","correct":false,"path":1}"#,    // cot, wrong
            #"{"id":"4","instruction":"Q?","output":"revised 🙂","answer":"A"}"#,                                       // sft.jsonl
            #"{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a"}]}"#,
            #"{"conversations":[{"from":"human","value":"h"},{"from":"gpt","value":"g"}]}"#,
            #"{"instruction":"Empty","output":"   "}"#,
            #"{"id":"5","question":"q","answer":"a","explanation":"e","critique":"c","revised":"r"}"#,              // critique-revise
        ])
        let (items, dropped) = try TrainingItemReader(path: path).read()
        #expect(dropped == [.truncated: 1, .incorrect: 1, .empty: 1])
        #expect(items.map(\.line) == [1, 3, 4, 6, 7, 8, 10])
        #expect(items[0].messages == [.user("Add\n\n2 3"), .assistant("5")])
        #expect(items[1].messages == [.user("英文: cat"), .assistant("猫")])
        #expect(items[2].messages == [.user("2+2?"), .assistant("two and two --> 4")])
        #expect(items[4].messages == [.system("s"), .user("u"), .assistant("a")])
        #expect(items[5].messages == [.user("h"), .assistant("g")])
        #expect(items[6].messages == [.user("q"), .assistant("r")])

        let bad = try Self.write("bad.jsonl", [#"{"text":"no shape"}"#])
        let e = try #require(throws: DataError.self) { _ = try TrainingItemReader(path: bad).read() }
        #expect(e.line == 1 && e.message.contains("expected messages"))
    }

    @Test func lossMasksMatchTransformers() throws {
        struct Case: Decodable { var messages: [ChatTurn]; var ids: [Int]; var mask: [Bool] }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: URL(fileURLWithPath:
            ModelFixtures.fixturesDir + "/training/chat_masks.json")))
        #expect(cases.count == 4)
        let tok = TrainingTokenizer(tokenizer: try TokenizerFixtures.smolLM2.get(), maxSequence: 4096)
        for c in cases {
            let r = try tok.encode(TrainingConversation(messages: c.messages, file: "f", line: 1)).get()
            #expect(r.example.tokens.map(Int.init) == c.ids)
            #expect(r.example.isTarget == c.mask)
        }
        // Too long: truncated (targets left) or dropped, as asked.
        let long = TrainingConversation(messages: cases[1].messages, file: "f", line: 1)
        let cut = try TrainingTokenizer(tokenizer: try TokenizerFixtures.smolLM2.get(), maxSequence: cases[1].ids.count - 5).encode(long).get()
        #expect(cut.truncated && cut.example.tokens.count == cases[1].ids.count - 5)
        let dropper = TrainingTokenizer(tokenizer: try TokenizerFixtures.smolLM2.get(), maxSequence: 10, overlong: .drop)
        #expect(throws: TrainingDropReason.self) { _ = try dropper.encode(long).get() }
        let tiny = TrainingTokenizer(tokenizer: try TokenizerFixtures.smolLM2.get(), maxSequence: 10)
        #expect(throws: TrainingDropReason.noTargets) { _ = try tiny.encode(long).get() }
    }

    @Test func aFileWithNothingToTrainOnIsRefusedByName() throws {
        let path = try Self.write("nothing.jsonl", [#"{"instruction":"a","output":""}"#,
                                                    #"{"instruction":"b","output":"x","finish_reason":"length"}"#])
        let tok = TrainingTokenizer(tokenizer: try TokenizerFixtures.smolLM2.get(), maxSequence: 64)
        let e = try #require(throws: DataError.self) {
            _ = try TrainingData.load(files: [path], tokenizer: tok, validationFraction: 0.1, seed: 0)
        }
        #expect(e.file == path && e.message.contains("no trainable tokens") && e.message.contains("1 empty"))
    }

    @Test func packingKeepsItemsApartAndTheSplitIsSeeded() throws {
        func ex(_ n: Int, _ base: Int32) -> TrainingExample {
            TrainingExample(tokens: (0..<n).map { base + Int32($0) }, isTarget: (0..<n).map { $0 > 0 }, file: "f", line: 1)
        }
        let examples = [ex(3, 10), ex(4, 20), ex(5, 30)]
        let rows = TrainingPlan.microBatches(order: [0, 1, 2], lengths: [3, 4, 5], batch: 8, maxSequence: 8, pack: true)
        #expect(rows == [[[0, 1], [2]]])
        let b = TrainingPlan.batch(rows[0], examples: examples, padID: 0)
        #expect(b.B == 2 && b.T == 7)
        #expect(Array(b.tokens[0..<7]) == [10, 11, 12, 20, 21, 22, 23])
        #expect(Array(b.segments[0..<7]) == [0, 0, 0, 1, 1, 1, 1])
        // The last token of each item predicts nothing (the next item is not its continuation).
        #expect(Array(b.targets[0..<7]) == [11, 12, -1, 21, 22, 23, -1])
        #expect(Array(b.targets[7..<14]) == [31, 32, 33, 34, -1, -1, -1])
        #expect(Array(b.segments[12..<14]) == [1, 1])

        let many = (0..<50).map { ex(2 + $0 % 5, Int32($0 * 10)) }
        let s1 = TrainingData.split(many, fraction: 0.1, seed: 4), s2 = TrainingData.split(many, fraction: 0.1, seed: 4)
        #expect(s1.validation == s2.validation && s1.validation.count == 5 && s1.train.count == 45)
        #expect(TrainingData.split(many, fraction: 0.1, seed: 5).validation != s1.validation)
        #expect(TrainingPlan.shuffled(10, seed: 1) == TrainingPlan.shuffled(10, seed: 1))
        #expect(TrainingPlan.shuffled(10, seed: 1).sorted() == Array(0..<10))
    }
}
