import DistillData
import DistillHTTP
import DistillClient
import DistillTestSupport
import Foundation
import Testing
@testable import DistillJudge

/// The whole judge path over real loopback HTTP: libcurl client → TeacherStandIn, which answers with every broken
/// reply shape a judge produces. Counts are checked at the stand-in.
struct StandInJudgeTests {
    static let good = #"{"reason": "ok", "Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#

    /// Each shape: the first reply, the reply to the repair turn, the reply to a re-sample, and what must come out.
    struct Shape: Sendable {
        var name: String
        var first: String
        var repair: String = StandInJudgeTests.good
        var resample: String = StandInJudgeTests.good
        var step: ParseStep?  // nil: unscored
        var requests: Int
        var invalid: InvalidReason? = nil
    }

    static let shapes: [Shape] = [
        Shape(name: "strict", first: good, step: .strict, requests: 1),
        Shape(name: "fenced", first: "```json\n\(good)\n```", step: .extracted, requests: 1),
        Shape(name: "prose", first: "好的，评分如下：\n\(good)\n希望有帮助 🙂", step: .extracted, requests: 1),
        Shape(name: "trailing-commas", first: #"{"Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5,}"#, step: .trailingCommas, requests: 1),
        Shape(name: "truncated", first: "{\"reason\": \"ok\", \"Correctness\": 4, \"Completeness\": 3, \"Relevance\": 5, \"Fluency\": 5\n", step: .closedTruncation, requests: 1),
        Shape(name: "two-identical", first: "\(good)\n\(good)", step: .extracted, requests: 1),
        Shape(name: "missing-key", first: #"{"Correctness": 4, "Completeness": 3, "Relevance": 5}"#, step: .repairTurn, requests: 2),
        Shape(name: "renamed-key", first: #"{"Accuracy": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#,
              repair: #"{"Accuracy": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#, step: .resampled, requests: 3),
        Shape(name: "seven", first: #"{"Correctness": 7, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#, step: .repairTurn, requests: 2),
        Shape(name: "string-four", first: #"{"Correctness": "4", "Completeness": 3, "Relevance": 5, "Fluency": 5}"#, step: .repairTurn, requests: 2),
        Shape(name: "two-different", first: "\(good) or maybe {\"Correctness\": 2, \"Completeness\": 3, \"Relevance\": 5, \"Fluency\": 5}",
              step: .repairTurn, requests: 2),
        Shape(name: "minus-one", first: #"{"Correctness": -1, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#,
              repair: #"{"Correctness": -1, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#,
              resample: #"{"Correctness": -1, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#, step: nil, requests: 3, invalid: .outOfRange),
        Shape(name: "three-and-a-half", first: #"{"Correctness": 3.5, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#,
              repair: #"{"Correctness": 3.5, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#,
              resample: #"{"Correctness": 3.5, "Completeness": 3, "Relevance": 5, "Fluency": 5}"#, step: nil, requests: 3, invalid: .notInteger),
        Shape(name: "empty", first: "", repair: "", resample: "   ", step: nil, requests: 3, invalid: .empty),
    ]

    /// Picks the reply for a request from the shape named in the generated output and the turn it is.
    static func reply(_ req: StandInRequest) -> StandInReply {
        guard let messages = req.json?["messages"] as? [[String: Any]], let user = messages.dropFirst().first?["content"] as? String,
              let shape = shapes.first(where: { user.contains("shape=\($0.name);") }) else {
            return .error(status: 400, type: "invalid_request_error", message: "unexpected request")
        }
        if messages.count > 2 { return .chat(shape.repair) }
        if let t = req.json?["temperature"] as? Double, t > 0 { return .chat(shape.resample) }
        return .chat(shape.first)
    }

    static func writeInputs(_ dir: String, label: String) throws -> String {
        let path = dir + "/\(label).jsonl"
        let text = try shapes.map { s in
            String(decoding: try JSONLines.encoder.encode(GenerationRecord(instruction: "评价这段回答", input: "",
                                                                         referenceOutput: "参考", generateOutput: "shape=\(s.name); 回答 ✨")), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func client(_ standIn: TeacherStandIn) throws -> OpenAIClient {
        OpenAIClient(endpoint: Endpoint(baseURL: standIn.baseURL, model: "judge-stand-in"), http: try HTTPClient())
    }

    func run(_ dir: String) throws -> JudgeRun {
        var settings = JudgeSettings(model: "judge-stand-in")
        settings.maxResamples = 1
        var run = JudgeRun(inputs: [JudgeInput(label: "student", path: try Self.writeInputs(dir, label: "student"))],
                           rubric: try Rubric.load(RubricTests.promptsDir + "/judge.txt"), settings: settings,
                           // The judge's identity in the cache key; the client carries the stand-in's real (ephemeral) port,
                           // which differs between the "crashed" process and the resumed one.
                           endpoint: "http://judge.test/v1", outDir: dir + "/judge")
        run.concurrency = 4
        return run
    }

    @Test func everyBrokenReplyShapeComesOutRight() async throws {
        let standIn = try TeacherStandIn { Self.reply($0) }
        defer { standIn.stop() }
        let dir = try GenerationFiles.folder()
        let run = try run(dir)
        let summary = try await run.run(client: try client(standIn))
        let expectedScored = Self.shapes.filter { $0.step != nil }.count
        #expect(summary.scored == expectedScored && summary.unscored == Self.shapes.count - expectedScored && summary.failed == 0)
        #expect(standIn.requestCount == Self.shapes.map(\.requests).reduce(0, +))

        let judgments = try GenerationFiles.judgments(run.journalPath)
        for shape in Self.shapes {
            let j = try #require(judgments.first { $0.generateOutput.hasPrefix("shape=\(shape.name);") }, "\(shape.name)")
            #expect(j.step == shape.step, "\(shape.name): step \(String(describing: j.step))")
            #expect(j.attempts.count == shape.requests, "\(shape.name)")
            if shape.step != nil {
                #expect(j.scores == ["Correctness": 4, "Completeness": 3, "Relevance": 5, "Fluency": 5], "\(shape.name)")
            } else {
                #expect(j.scores == nil, "\(shape.name): a failure must not carry scores")
                #expect(j.problems.first?.reason == shape.invalid, "\(shape.name)")
                #expect(j.attempts.first?.reply == shape.first, "\(shape.name): raw reply kept")
            }
        }
        // The report's Valid Data and means count only real verdicts.
        let s = SummaryBuilder(criteria: Journal.criteria, scale: 0...5).build(judgments)
        #expect(s.models[0].nValid == expectedScored && s.models[0].nTotal == Self.shapes.count)
        #expect(s.models[0].criteria.map(\.mean.estimate) == [4, 3, 5, 5])
        #expect(s.models[0].invalidReasons == ["out-of-range": 1, "not-integer": 1, "empty": 1])
        // The first request asked for a strict schema with enums, reason first.
        let body = try #require(standIn.requests.first?.json)
        let format = try #require(body["response_format"] as? [String: Any])
        #expect(format["type"] as? String == "json_schema")
    }

    @Test func endpointWithoutStructuredOutputsFallsBack() async throws {
        let standIn = try TeacherStandIn { req in
            let type = (req.json?["response_format"] as? [String: Any])?["type"] as? String
            if type == "json_schema" {
                return .error(status: 400, type: "invalid_request_error", message: "response_format type json_schema is not supported by this server")
            }
            return .chat(Self.good)
        }
        defer { standIn.stop() }
        let dir = try GenerationFiles.folder()
        let summary = try await run(dir).run(client: try client(standIn))
        #expect(summary.format == .jsonObject && summary.scored == Self.shapes.count)
        // One rejected request per concurrent worker at most, then every request uses json_object.
        let rejected = standIn.requests.filter { (($0.json?["response_format"] as? [String: Any])?["type"] as? String) == "json_schema" }.count
        #expect(rejected >= 1 && rejected <= 4)
        #expect(standIn.requestCount == Self.shapes.count + rejected)
    }

    @Test func cancelledMidJudgingResumesWithoutAskingFinishedItems() async throws {
        let dir = try GenerationFiles.folder()
        // First process: answers 5 requests, then the judge stalls until the process is killed.
        let first = try TeacherStandIn { req in req.sequence <= 5 ? .chat(Self.good) : .delayed(.seconds(60), .chat(Self.good)) }
        let run1 = try run(dir)
        let task = Task { try await run1.run(client: try client(first)) }
        try await eventually("5 judgments in the journal") { ((try? GenerationFiles.judgments(run1.journalPath).count) ?? 0) >= 5 }
        task.cancel()
        _ = await task.result
        first.stop()
        let finished = try GenerationFiles.judgments(run1.journalPath)
        #expect(finished.count == 5)

        let second = try TeacherStandIn { _ in .chat(Self.good) }
        defer { second.stop() }
        let summary = try await run(dir).run(client: try client(second))
        #expect(summary.alreadyDone == 5)
        #expect(second.requestCount == Self.shapes.count - 5)
        let asked = second.requests.compactMap { ($0.json?["messages"] as? [[String: Any]])?.dropFirst().first?["content"] as? String }
        for j in finished { #expect(!asked.contains { $0.contains(j.generateOutput) }) }
    }
}
