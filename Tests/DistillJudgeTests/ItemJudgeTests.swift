import DistillData
import DistillClient
import DistillTestSupport
import Foundation
import Testing
@testable import DistillJudge

/// The content rungs of the ladder (repair turn, re-sample, unscored) and reply-format negotiation, over a fake judge.
struct ItemJudgeTests {
    let rubric: Rubric
    let record = GenerationRecord(instruction: "把这句话翻译成英文", input: "我爱自然语言处理 🤖",
                                  referenceOutput: "I love NLP 🤖", generateOutput: "I love natural language processing 🤖")
    static let good = #"{"reason": "fine", "Correctness": 5, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#

    init() throws { rubric = try Rubric.load(RubricTests.promptsDir + "/judge.txt") }

    func judge(_ client: FakeJudge, resamples: Int = 2) -> ItemJudge {
        var s = JudgeSettings(model: "judge-model")
        s.maxResamples = resamples
        return ItemJudge(client: client, rubric: rubric, settings: s, negotiator: ReplyFormatNegotiator())
    }

    @Test func cleanReplyIsOneRequest() async throws {
        let fake = FakeJudge { _, _ in (Self.good, "stop") }
        let o = try await judge(fake).judge(record)
        #expect(o.status == .scored && o.step == .strict)
        #expect(o.scores == ["Correctness": 5, "Completeness": 4, "Relevance": 5, "Fluency": 5])
        #expect(fake.requests.count == 1)
        let r = try #require(fake.requests.first)
        #expect(r.temperature == 0)
        guard case .jsonSchema(_, let schema, true) = r.responseFormat else { Issue.record("no json_schema"); return }
        #expect(schema.contains(#""Correctness":{"type":"integer","enum":[0,1,2,3,4,5]}"#))
        #expect(schema.hasPrefix(#"{"type":"object","properties":{"reason""#))
        #expect(r.messages.last?.content.contains("我爱自然语言处理 🤖") == true)
    }

    @Test func repairTurnFixesAnOutOfRangeScore() async throws {
        let fake = FakeJudge { _, n in
            n == 1 ? (#"{"Correctness": 7, "Completeness": 4, "Relevance": 5, "Fluency": 5}"#, "stop") : (Self.good, "stop")
        }
        let o = try await judge(fake).judge(record)
        #expect(o.status == .scored && o.step == .repairTurn)
        #expect(o.scores["Correctness"] == 5)
        #expect(o.attempts.map(\.kind) == [.first, .repair])
        let repair = try #require(fake.requests.last)
        #expect(repair.messages.count == 4)
        #expect(repair.messages[2].role == "assistant" && repair.messages[2].content.contains("7"))
        #expect(repair.messages[3].content.contains("Correctness: 7 is outside 0–5"))
    }

    @Test func resampleAfterFailedRepair() async throws {
        let fake = FakeJudge { _, n in n <= 2 ? ("I think it is good.", "stop") : (Self.good, "stop") }
        let o = try await judge(fake).judge(record)
        #expect(o.status == .scored && o.step == .resampled)
        #expect(fake.requests.count == 3)
        #expect(fake.requests[2].temperature == 0.7)
        #expect(fake.requests[2].messages.count == 2)
    }

    @Test func exhaustedLadderIsUnscoredWithEveryReplyKept() async throws {
        let fake = FakeJudge { _, n in (#"{"Correctness": "4", "Completeness": 4, "Relevance": 5, "Fluency": 5} #\#(n)"#, "stop") }
        let o = try await judge(fake, resamples: 2).judge(record)
        #expect(o.status == .unscored)
        #expect(o.step == nil)
        #expect(o.attempts.count == 4)
        #expect(o.attempts.map(\.reply).last?.hasSuffix("#4") == true)
        #expect(o.problems.map(\.reason) == [.wrongType])
        // The criteria that did validate are kept apart; Correctness has no score at all.
        #expect(o.scores == ["Completeness": 4, "Relevance": 5, "Fluency": 5])
    }

    @Test func contentFilterSkipsTheRepairTurn() async throws {
        let fake = FakeJudge { _, _ in ("", "content_filter") }
        let o = try await judge(fake, resamples: 1).judge(record)
        #expect(o.status == .unscored)
        #expect(o.attempts.map(\.kind) == [.first, .resample])
        #expect(o.problems.map(\.reason) == [.contentFilter])
    }

    @Test func unsupportedSchemaFallsBackToJSONObjectThenPrompt() async throws {
        let fake = FakeJudge { req, _ in
            switch req.responseFormat {
            case .jsonSchema: throw FakeHTTPError(description: "HTTP 400: Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model")
            case .jsonObject: throw FakeHTTPError(description: "HTTP 400: response_format json_object unsupported")
            default: return (Self.good, "stop")
            }
        }
        let negotiator = ReplyFormatNegotiator()
        let j = ItemJudge(client: fake, rubric: rubric, settings: JudgeSettings(model: "m"), negotiator: negotiator)
        let o = try await j.judge(record)
        #expect(o.status == .scored)
        #expect(o.attempts.first?.format == .prompt)
        #expect(await negotiator.mode == .prompt)
        // The next item goes straight to the mode that works.
        _ = try await j.judge(record)
        #expect(fake.requests.count == 4)
        #expect(fake.requests[3].responseFormat == nil)
    }

    @Test func otherErrorsAreThrownNotScored() async throws {
        let fake = FakeJudge { _, _ in throw FakeHTTPError(description: "HTTP 503: overloaded") }
        await #expect(throws: FakeHTTPError.self) { try await judge(fake).judge(record) }
    }
}
