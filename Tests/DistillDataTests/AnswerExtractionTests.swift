import Testing
@testable import DistillData

struct AnswerExtractionTests {
    @Test(arguments: [
        ("So the total is 1,234.5 dollars.", [1234.5]),
        ("答案是 42 个苹果 🍎", [42]),
        ("🍎×3 + 🍐×4 = 7 🎉", [3, 4, 7]),
        ("It is -7, not −8", [-7, -8]),
        ("x = 3/4", [0.75]),
        ("x = 3 / 4 of 10", [0.75, 10]),
        ("2022-05-20", [2022, 5, 20]),
        ("due 2022/05/20 at 9", [2022, 5, 20, 9]),
        ("COVID-19 and x-3", [19, 3]),
        ("1,5 and 1,234,567 and 12,34", [1, 5, 1_234_567, 12, 34]),
        ("$12 or €3.50, 45%", [12, 3.5, 45]),
        ("４２个", [42]),
        ("Version 42.", [42]),
        ("no digits here", []),
    ])
    func numbersInOrder(text: String, want: [Double]) {
        #expect(AnswerExtraction.numbers(in: text) == want)
    }

    @Test func dateEndingOnTheTwentiethIsNotMinusTwenty() {
        #expect(AnswerExtraction.numbers(in: "The meeting is on 2022-05-20.").last == 20)
        #expect(!AnswerExtraction.numbers(in: "2022-05-20").contains(-20))
        #expect(!AnswerExtraction.numbers(in: "2022-05-20").contains(-5))
    }

    @Test func wholeStringNumbers() {
        #expect(AnswerExtraction.number("1,234.5") == 1234.5)
        #expect(AnswerExtraction.number("$12") == 12)
        #expect(AnswerExtraction.number("45%") == 45)
        #expect(AnswerExtraction.number("-3") == -3)
        #expect(AnswerExtraction.number("3/4") == 0.75)
        #expect(AnswerExtraction.number("2024-03-26") == nil)
        #expect(AnswerExtraction.number("42 apples") == nil)
        #expect(AnswerExtraction.number("1/0") == nil)
    }

    @Test(arguments: [
        ("B", "B"), ("(c) because…", "C"), ("The answer is D.", "D"), ("答案是 A", "A"), ("选项 C 正确", "C"),
        ("答案为（B）", "B"), ("**Answer: E**", "E"), ("A. Paris\nWait, the answer is B", "B"),
    ])
    func explicitChoiceLetters(text: String, want: String) {
        #expect(AnswerExtraction.choiceLetter(in: text).map(String.init) == want)
    }

    @Test(arguments: ["I think a bank", "The answer is a river", "Banks hold money", "A bank is a place 🏦", "不知道"])
    func noGuessedChoiceLetters(text: String) {
        #expect(AnswerExtraction.choiceLetter(in: text) == nil)
    }

    @Test func normaliseFoldsCaseWidthPunctuationAndArticles() {
        #expect(AnswerExtraction.normalise("The Pacific Ocean.") == "pacific ocean")
        #expect(AnswerExtraction.normalise("北京。") == "北京")
        #expect(AnswerExtraction.normalise("ＡＢＣ") == "abc")
        #expect(AnswerExtraction.normalise("  a   Cat!! 🐱 ") == "cat")
        #expect(AnswerExtraction.normalise("「你好」，世界！") == "你好 世界")
    }
}

struct FinalAnswerTests {
    @Test(arguments: [
        ("Let me think.\nTherefore, the answer is 42.", "42", AnswerExtraction.AnswerSource.marker),
        ("答案：2016-03-16", "2016-03-16", .marker), ("答案是：北京。", "北京", .marker),
        ("We get \\boxed{\\frac{3}{4}} at last", "\\frac{3}{4}", .boxed), ("work\n#### 72", "72", .marker),
        ("**Final answer:** **B**", "B", .marker), ("Answer:\n\n  7 apples", "7 apples", .marker),
        ("First line\nSecond line.\n\n", "Second line", .lastLine),
    ])
    func finalAnswer(text: String, want: String, source: AnswerExtraction.AnswerSource) {
        #expect(AnswerExtraction.finalAnswer(in: text) == .init(text: want, source: source))
    }

    @Test func datesAreValues() {
        let d = AnswerExtraction.dates(in: "From 2019-01-20 to 05/20/2022, or 2022年5月21日, or 3rd March 2020 and Jan. 2, 2021; not 2022-13-40")
        #expect(d.map(\.description) == ["2019-01-20", "2022-05-20", "2022-05-21", "2020-03-03", "2021-01-02"])
        #expect(AnswerExtraction.dates(in: "no dates, 2022 only").isEmpty)
    }
}
