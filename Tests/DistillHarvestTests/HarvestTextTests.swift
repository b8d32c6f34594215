import DistillData
import Foundation
import Testing
@testable import DistillClient
@testable import DistillHarvest

@Suite struct HarvestRougeLTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var a, b, tokenizer: String
            var fmeasure: Double
            var tokensA: [String]?
            var tokensB: [String]?
            enum CodingKeys: String, CodingKey {
                case a, b, tokenizer, fmeasure
                case tokensA = "tokens_a"
                case tokensB = "tokens_b"
            }
        }
        var cases: [Case]
    }

    @Test func matchesRougeScore() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: HarvestFixtures.fixturesDirectory + "/rouge_l.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        #expect(fixture.cases.count >= 15)
        for c in fixture.cases {
            if let ta = c.tokensA, let tb = c.tokensB {
                #expect(RougeL.tokens(c.a) == ta)
                #expect(RougeL.tokens(c.b) == tb)
            }
            #expect(abs(RougeL.score(c.a, c.b) - c.fmeasure) < 1e-9, "\(c.a) | \(c.b)")
        }
    }

    @Test func indexFindsExactlyWhatBruteForceFinds() async {
        await offPool { Self.indexAgainstBruteForce() }
    }

    static func indexAgainstBruteForce() {
        var rng = SplitMix64(seed: 42)
        let words = ["write", "a", "poem", "about", "the", "sea", "list", "three", "tips", "for", "health", "explain",
                     "why", "sky", "is", "blue", "翻", "译", "这", "句", "话", "summarize", "article", "in", "two"]
        func sentence() -> String {
            (0..<Int.random(in: 3...12, using: &rng)).map { _ in words.randomElement(using: &rng) ?? "" }.joined(separator: " ")
        }
        var index = RougeLIndex(threshold: 0.7)
        var kept: [String] = []
        for _ in 0..<250 {
            let s = sentence()
            let brute = kept.map { RougeL.score(s, $0) }.max() ?? 0
            let found = index.match(s)
            #expect((found != nil) == (brute > 0.7), "\(s): index \(found?.score ?? 0) brute \(brute)")
            if let found { #expect(abs(found.score - brute) < 1e-12) }
            if found == nil {
                index.add(s)
                kept.append(s)
            }
        }
        #expect(kept.count > 50)
    }

    @Test func prefixFilterSkipsAlmostAllPairs() async {
        await offPool { Self.prefixFilterWork() }
    }

    static func prefixFilterWork() {
        // 4,000 instructions from a 3,000-word vocabulary: a naive filter runs ~8 million LCS computations; the index
        // must verify only a small fraction. (Wall time is measured in release builds; see the harvest report.)
        var rng = SplitMix64(seed: 1)
        let vocabulary = (0..<3000).map { "w\($0)" }
        var index = RougeLIndex()
        var kept = 0
        let n = 4000
        for _ in 0..<n {
            let s = (0..<Int.random(in: 6...18, using: &rng)).map { _ in vocabulary.randomElement(using: &rng) ?? "" }
                .joined(separator: " ")
            if index.match(s) == nil {
                index.add(s)
                kept += 1
            }
        }
        #expect(kept > n * 9 / 10)
        #expect(index.verifiedPairs < n * (n - 1) / 2 / 10_000, "verified \(index.verifiedPairs) pairs")
    }
}

/// Runs CPU-heavy test work on a GCD thread, not on the concurrency pool's few threads (which other suites' timing
/// tests need).
func offPool(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            work()
            c.resume()
        }
    }
}

@Suite struct HarvestAnswerCheckerTests {
    @Test func numericAnswersTakeTheFirstNumber() {
        #expect(AnswerChecker.isCorrect("42.", gold: "42"))
        #expect(AnswerChecker.isCorrect("$1,234 in total", gold: "1234"))
        #expect(AnswerChecker.isCorrect("-3 degrees", gold: "-3"))
        #expect(AnswerChecker.isCorrect("0.5", gold: "1/2"))
        #expect(AnswerChecker.isCorrect("答案是 18 个苹果", gold: "18"))
        #expect(!AnswerChecker.isCorrect("41, not 42", gold: "42"))
        #expect(!AnswerChecker.isCorrect("no idea", gold: "42"))
        #expect(AnswerChecker.isCorrect("1,5", gold: "1"))
    }

    @Test func choiceAnswersFindTheLetterOrTheOptionText() {
        let choices = ["A", "B", "C", "D", "E"].map { QuestionItem.Choice(label: $0, text: ["rock", "red apple", "iron", "apple tree", "sand"][["A", "B", "C", "D", "E"].firstIndex(of: $0) ?? 0]) }
        #expect(AnswerChecker.isCorrect("(B)", gold: "B", choices: choices))
        #expect(AnswerChecker.isCorrect("B. red apple", gold: "B", choices: choices))
        #expect(AnswerChecker.isCorrect("a Red Apple!", gold: "B", choices: choices))
        #expect(!AnswerChecker.isCorrect("(C)", gold: "B", choices: choices))
        #expect(!AnswerChecker.isCorrect("Because apples…", gold: "B", choices: choices))
    }

    @Test func textAnswersMatchAfterNormalisation() {
        #expect(AnswerChecker.isCorrect("The Pacific Ocean.", gold: "pacific ocean"))
        #expect(AnswerChecker.isCorrect("2024-03-26", gold: "2024-03-26"))
        #expect(AnswerChecker.isCorrect("北京。", gold: "北京"))
        #expect(AnswerChecker.isCorrect("ＡＢＣ", gold: "abc"))
        #expect(!AnswerChecker.isCorrect("Atlantic", gold: "Pacific"))
    }

    @Test func cleanAnswerKeepsTheFirstLineAfterTheMarker() {
        #expect(AnswerChecker.cleanAnswer(" 42.\nBecause…") == "42")
        #expect(AnswerChecker.cleanAnswer("Therefore, the answer is: (B).") == "(B)")
        #expect(AnswerChecker.cleanAnswer("答案是：北京。") == "北京")
    }
}

@Suite struct HarvestEstimatorTests {
    @Test func heuristicCountsCJKPerCharacterAndLatinInFours() {
        #expect(TokenEstimator.heuristicCount("") == 0)
        #expect(TokenEstimator.heuristicCount("你好世界") == 4)
        #expect(TokenEstimator.heuristicCount("abcdefgh") == 2)
        #expect(TokenEstimator.heuristicCount("abc你好") == 3)
        #expect(TokenEstimator.heuristicCount("🙂") == 2)
    }

    @Test func progressLineShowsEverything() {
        let stats = HarvestStats(now: 0)
        stats.plan(10)
        stats.noteStarted()
        stats.noteSent(tokensIn: 1500, tokensOut: 500, cost: 0.01, now: 30)
        stats.noteRetry()
        let line = stats.snapshot(now: 30).line(label: "harvest answer", rpmLimit: 600, tpmLimit: 100_000)
        #expect(line.contains("harvest answer 1/10 (10%)"))
        #expect(line.contains("ok 1 failed 0 retries 1"))
        #expect(line.contains("2 rpm/600"))
        #expect(line.contains("tpm/100k"))
        #expect(line.contains("tokens in 1.5k out 500"))
        #expect(line.contains("$0.0100 → $0.1000"))
        #expect(line.contains("ETA 4m30s"))
    }
}

@Suite struct HarvestInputTests {
    @Test func badInputIsReportedWithFileLineAndField() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        // "中文" encoded as UTF-8, read as Windows-1252 and saved again: the mojibake seed 003 arrived in.
        let mojibake = try #require(String(data: Data("中文说明".utf8), encoding: .windowsCP1252))
        try HarvestFixtures.write([#"{"instruction": "ok"}"#, #"{"instruction": "\#(mojibake)"}"#], to: dir + "/m.jsonl")
        #expect {
            _ = try HarvestInput.instructions(dir + "/m.jsonl")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("m.jsonl:2: field 'instruction': looks double-encoded") && text.contains("中文")
        }
        try HarvestFixtures.write([#"{"question": "q?", "answer": "Z", "choices": ["a", "b"]}"#], to: dir + "/q.jsonl")
        #expect(throws: DataError.self) { _ = try HarvestInput.questions(dir + "/q.jsonl") }
        try HarvestFixtures.write([#"{"input": "no instruction"}"#], to: dir + "/n.jsonl")
        #expect {
            _ = try HarvestInput.instructions(dir + "/n.jsonl")
        } throws: { String(describing: $0).contains("n.jsonl:1: field 'instruction': missing") }
        var bytes = Data(#"{"instruction": ""#.utf8)
        bytes.append(contentsOf: [0xC3, 0x28])
        bytes.append(Data("\"}\n".utf8))
        try bytes.write(to: URL(fileURLWithPath: dir + "/b.jsonl"))
        #expect {
            _ = try HarvestInput.instructions(dir + "/b.jsonl")
        } throws: { String(describing: $0).contains("b.jsonl:1: invalid UTF-8") }
    }

    @Test func readsCommonsenseQAAndAlpacaQuestions() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        try HarvestFixtures.write([
            #"{"id": "c1", "question": {"stem": "Where is milk kept?", "choices": [{"label": "A", "text": "oven"}, {"label": "B", "text": "fridge"}]}, "answerKey": "B"}"#,
            #"{"instruction": "计算", "input": "6×7", "output": "42"}"#,
        ], to: dir + "/q.jsonl")
        let items = try HarvestInput.questions(dir + "/q.jsonl")
        #expect(items[0] == QuestionItem(id: "c1", question: "Where is milk kept?", gold: "B",
                                         choices: [.init(label: "A", text: "oven"), .init(label: "B", text: "fridge")]))
        #expect(items[1] == QuestionItem(id: "2", question: "计算\n\n6×7", gold: "42"))
    }
}

/// `--shard auto`: the shard a Slurm array task or a Kubernetes Indexed Job pod works on.
@Suite struct ShardFromEnvironmentTests {
    @Test func slurmArraysAndIndexedJobsGiveOneBasedShards() throws {
        #expect(try HarvestShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "8"]).get()
            == HarvestShard(index: 1, count: 8))
        #expect(try HarvestShard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_MIN": "1",
                                                  "SLURM_ARRAY_TASK_COUNT": "8"]).get() == HarvestShard(index: 8, count: 8))
        #expect(try HarvestShard.fromEnvironment(["JOB_COMPLETION_INDEX": "3", "DISTILL_SHARD_COUNT": "4"]).get()
            == HarvestShard(index: 4, count: 4))
    }

    @Test func missingOrInconsistentValuesSayWhatToSet() {
        func message(_ env: [String: String]) -> String {
            if case .failure(let e) = HarvestShard.fromEnvironment(env) { return e.description }
            return ""
        }
        #expect(message([:]).contains("give --shard I/N"))
        #expect(message(["JOB_COMPLETION_INDEX": "2"]).contains("DISTILL_SHARD_COUNT"))
        #expect(message(["SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "8"]).contains("contiguous array"))
        #expect(message(["SLURM_ARRAY_TASK_ID": "1"]).contains("SLURM_ARRAY_TASK_COUNT"))
    }
}
