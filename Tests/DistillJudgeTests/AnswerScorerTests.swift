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

/// Rule scoring on the final answer, the way the harvest's answer check reads it.
struct AnswerScorerFinalAnswerTests {
    func rec(_ out: String, _ ref: String) -> GenerationRecord {
        GenerationRecord(instruction: "q", input: "", referenceOutput: ref, generateOutput: out)
    }

    @Test(arguments: [
        // Dates compare as dates: the same day at the end is not the same date.
        ("The date is 2019-01-20.", "2022-05-20", 0), ("答案：2022-05-20", "2022-05-20", 1),
        ("Therefore, the answer is 05/20/2022.", "2022-05-20", 1), ("It is May 20, 2022", "2022-05-20", 1),
        ("2022年5月20日", "2022-05-20", 1), ("Therefore, the answer is 2022-05-21.", "2022-05-20", 0),
        // Numbers: the boxed or marked answer, not a later number in the text.
        ("\\boxed{42} (checked in 3 steps)", "42", 1), ("Therefore, the answer is 17. I used 3 steps.", "17", 1),
        ("The answer is 18.\nStep count: 17", "17", 0), ("答案：1,234.5 元", "1234.5", 1),
        ("Some working.\n#### 72", "Natalia sold 48/2 = 24 clips in May.\n#### 72", 1),
    ])
    func numeric(out: String, ref: String, want: Int) {
        #expect(AnswerScorer.score(rec(out, ref), mode: .numeric).score == want)
    }

    @Test(arguments: [
        ("答案：2016-03-16", "2016-03-16", 1), ("Let me think.\nTherefore, the answer is Paris.", "Paris", 1),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}", 1), ("Final answer: 42.0", "42", 1), ("答案：上海", "北京", 0),
        ("The answer is 2016-03-16, I think", "2016-03-16", 0),
    ])
    func exact(out: String, ref: String, want: Int) {
        #expect(AnswerScorer.score(rec(out, ref), mode: .exact).score == want)
    }

    @Test func aMissSaysMissAndNamesBothAnswers() {
        let v = AnswerScorer.verdict(rec("The date is 2019-01-20.", "2022-05-20"), mode: .numeric)
        #expect(v.score == 0)
        #expect(v.reason == "numeric miss: extracted '2019-01-20', expected '2022-05-20'")
        #expect(!v.reason.contains("match"))
        let hit = AnswerScorer.verdict(rec("答案：2016-03-16", "2016-03-16"), mode: .exact)
        #expect(hit.reason == "exact match: extracted '2016-03-16', expected '2016-03-16'" && hit.extracted == "2016-03-16")
    }

    @Test func theDrillDownAndCSVShowTheExtractedAnswer() throws {
        let dir = try GenerationFiles.folder()
        let path = dir + "/student.jsonl"
        let r = GenerationRecord(instruction: "哪一天？", input: "", referenceOutput: "2022-05-20",
                                 generateOutput: "先算一下。\n答案：2019-01-20", category: "date")
        try (String(decoding: try JSONLines.encoder.encode(r), as: UTF8.self) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let js = try AnswerScorer.judgments(inputs: [JudgeInput(label: "student", path: path)], mode: .numeric)
        #expect(js.first?.extractedAnswer == "2019-01-20" && js.first?.category == "date")
        let s = ReportWriter(judgmentFiles: [], manifest: nil).summary(of: js)
        let html = HTMLReport.render(s, judgments: js)
        #expect(html.contains("<div class=\"label\">Extracted answer</div><pre class=\"answer\">2019-01-20</pre>"))
        #expect(html.contains("numeric miss: extracted &#39;2019-01-20&#39;"))
        #expect(CSVReport.render(js, criteria: s.criteria).contains(",2019-01-20\r\n"))
    }
}
