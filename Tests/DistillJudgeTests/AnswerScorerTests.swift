import DistillData
import Testing
@testable import DistillJudge

struct AnswerScorerTests {
    func rec(_ out: String, _ ref: String) -> GenerationRecord {
        GenerationRecord(instruction: "q", input: "", referenceOutput: ref, generateOutput: out)
    }

    @Test(arguments: [
        ("Paris.", "paris", 1), ("  The   Cat ", "the cat", 1), ("北京。", "北京", 1), ("Paris, France", "Paris", 0), ("", "x", 0),
    ])
    func exact(out: String, ref: String, want: Int) {
        #expect(AnswerScorer.score(rec(out, ref), mode: .exact).score == want)
    }

    @Test(arguments: [
        ("So the total is 1,234.5 dollars.", "1234.5", 1), ("答案是 42 个苹果 🍎", "#### 42", 1), ("x = 3/4", "0.75", 1),
        ("It is -7", "-7.0", 1), ("maybe 41 or 43", "42", 0), ("no idea", "42", 0),
        // A date's hyphens are not minus signs: 2022-05-20 ends with 20, not -20.
        ("Due 2022-05-20", "-20", 0), ("Due 2022-05-20", "20", 1),
    ])
    func numeric(out: String, ref: String, want: Int) {
        #expect(AnswerScorer.score(rec(out, ref), mode: .numeric).score == want)
    }

    @Test(arguments: [
        ("B", "B", 1), ("(c) because…", "C", 1), ("The answer is D.", "D", 1), ("答案是 A", "A", 1), ("**Answer: E**", "E", 1),
        ("A. Paris\nWait, the answer is B", "B", 1), ("I think a bank", "A", 0), ("The answer is a river", "A", 0), ("Banks hold money", "B", 0),
    ])
    func choice(out: String, ref: String, want: Int) {
        #expect(AnswerScorer.score(rec(out, ref), mode: .choice).score == want)
    }

    @Test func unreadableOutputScoresZeroNotInvalid() {
        let r = AnswerScorer.score(rec("I refuse", "C"), mode: .choice)
        #expect(r.score == 0 && r.extracted == nil)
    }
}
