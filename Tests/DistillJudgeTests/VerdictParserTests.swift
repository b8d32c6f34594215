import DistillData
import Testing
@testable import DistillJudge

/// The text rungs and validation of the parse ladder, one broken reply shape per test.
struct VerdictParserTests {
    let parser = VerdictParser(criteria: ["Correctness", "Completeness", "Relevance", "Fluency"], scale: 0...5)
    let good = #"{"reason": "准确，但漏了一点 🙂", "Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#
    let expected = ["Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5]

    @Test func strictObjectIsStrict() {
        let r = parser.parse(good)
        #expect(r.isValid)
        #expect(r.rung == .strict)
        #expect(r.scores == expected)
        #expect(r.reason == "准确，但漏了一点 🙂")
    }

    @Test func fencedObjectIsExtracted() {
        let r = parser.parse("```json\n\(good)\n```")
        #expect(r.rung == .extracted)
        #expect(r.scores == expected)
    }

    @Test func proseAroundObjectIsExtracted() {
        let r = parser.parse("Here is my evaluation {of sorts}:\n\(good)\nI hope this helps!")
        #expect(r.isValid)
        #expect(r.rung == .extracted)
        #expect(r.scores == expected)
    }

    @Test func trailingCommasAreRepaired() {
        let r = parser.parse(#"{"Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5,}"#)
        #expect(r.isValid)
        #expect(r.rung == .trailingCommas)
        #expect(r.scores == expected)
    }

    @Test func truncatedAfterLastScoreIsClosed() {
        let r = parser.parse(#"{"reason": "ok", "Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5\#n"#)
        #expect(r.isValid)
        #expect(r.rung == .closedTruncation)
        #expect(r.scores == expected)
    }

    @Test func truncatedNumberAtEndIsNotTrusted() {
        // "Fluency": 5 might have been "Fluency": 50 — a number that runs into the end is dropped, not guessed.
        let r = parser.parse(#"{"Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5"#)
        #expect(!r.isValid)
        #expect(r.rung == .closedTruncation)
        #expect(r.problems.map(\.reason) == [.missingKey])
        #expect(r.problems.first?.criterion == "Fluency")
        #expect(r.scores["Correctness"] == 4)
    }

    @Test func truncatedInsideReasonHasNoScores() {
        let r = parser.parse(#"{"reason": "The answer is mostly right but"#)
        #expect(!r.isValid)
        #expect(r.scores.isEmpty)
        #expect(r.problems.count == 4)
        #expect(r.problems.allSatisfy { $0.reason == .missingKey })
    }

    @Test func keysMatchIgnoringCaseAndSpaces() {
        let r = parser.parse(#"{"correctness": 1, "COMPLETENESS": 2, " relevance ": 0, "flu_ency": 5}"#)
        #expect(r.isValid)
        #expect(r.scores == ["Correctness": 1, "Completeness": 2, "Relevance": 0, "Fluency": 5])
    }

    @Test func renamedKeyIsMissing() {
        let r = parser.parse(#"{"Accuracy": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#)
        #expect(!r.isValid)
        #expect(r.problems == [VerdictProblem(.missingKey, criterion: "Correctness", "no 'Correctness' key")])
        #expect(r.scores["Completeness"] == 3)
    }

    @Test(arguments: [
        ("7", InvalidReason.outOfRange), ("-1", .outOfRange), ("3.5", .notInteger), ("4.0", .notInteger),
        ("4e0", .notInteger), ("\"4\"", .wrongType), ("null", .wrongType), ("true", .wrongType), ("[4]", .wrongType),
    ])
    func badScoreValuesAreInvalid(literal: String, reason: InvalidReason) {
        let r = parser.parse(#"{"Correctness": \#(literal), "Completeness": 3, "Relevance": 5, "Fluency": 5}"#)
        #expect(!r.isValid)
        #expect(r.problems.map(\.reason) == [reason])
        #expect(r.problems.first?.criterion == "Correctness")
        #expect(r.scores["Correctness"] == nil)
        #expect(r.scores.count == 3)
    }

    @Test func twoIdenticalObjectsAreAccepted() {
        let r = parser.parse("First: \(good)\nAgain: \(good)")
        #expect(r.isValid)
        #expect(r.scores == expected)
    }

    @Test func twoDifferentObjectsAreAmbiguous() {
        let other = #"{"Correctness": 2, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#
        let r = parser.parse("\(good)\n\(other)")
        #expect(!r.isValid)
        #expect(r.problems.map(\.reason) == [.ambiguous])
        #expect(r.scores.isEmpty)
    }

    @Test func duplicateKeyWithDifferentValuesIsAmbiguous() {
        let r = parser.parse(#"{"Correctness": 4, "correctness": 1, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#)
        #expect(r.problems.map(\.reason) == [.ambiguous])
    }

    @Test func templateEchoIsNotAScore() {
        // The prompt's own example (not JSON) echoed back must not be read as scores (Prometheus #58).
        let r = parser.parse(#"{"Correctness": <0-5>, "Completeness": <0-5>, "Relevance": <0-5>, "Fluency": <0-5>}"#)
        #expect(!r.isValid)
        #expect(r.scores.isEmpty)
    }

    @Test(arguments: ["", "   \n ", "I cannot evaluate this.", "Correctness: 4, Completeness: 3"])
    func emptyOrNoJSONIsInvalid(reply: String) {
        let r = parser.parse(reply)
        #expect(!r.isValid)
        #expect(r.scores.isEmpty)
        #expect([InvalidReason.empty, .noJSON].contains(r.problems.first?.reason))
    }

    @Test func contentFilterIsInvalidEvenWithText() {
        let r = parser.parse(good, finishReason: "content_filter")
        #expect(r.problems.map(\.reason) == [.contentFilter])
    }

    @Test func unicodeEscapesAndNestedValuesParse() throws {
        let v = try LenientJSONParser.parseWhole(#"{"a": "\u4e2d\ud83d\ude00", "b": [1, {"c": null}], "d": -0.5e-3}"#)
        guard case .object(let m) = v else { Issue.record("not an object"); return }
        #expect(m[0].value == .string("中😀"))
        #expect(m[2].value == .number("-0.5e-3"))
    }

    @Test func strictParserRejectsWhatJSONRejects() {
        for bad in [#"{"a": 01}"#, #"{"a": 1,}"#, #"{'a': 1}"#, #"{"a": 1} x"#, "{\"a\": \"tab\there\"}"] {
            #expect(throws: LenientJSONParser.Failure.self) { try LenientJSONParser.parseWhole(bad) }
        }
    }
}
