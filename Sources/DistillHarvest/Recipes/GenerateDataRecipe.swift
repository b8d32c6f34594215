import DistillClient
import DistillData
import Foundation

/// `generate-data` (data distillation, seed 003): from a task description, the teacher writes `perRequest`
/// training samples per request as JSON `{"input","output"}`; samples are validated (both fields non-empty text)
/// and deduplicated (normalised input), until `target` are kept. Progress is reported every 10 kept samples, as
/// the seed's script prints it.
///
/// Outputs: `generate-data.jsonl` (`{"input","output"}` only, ready for training), `generate-data-rejected.jsonl`
/// (`round`, `reason`, `text`).
public struct GenerateDataRecipe: HarvestRecipe {
    public let task: String
    public let examples: [InstructionItem]
    public let prompts: HarvestPrompts
    public let generation: HarvestGeneration
    public let target: Int
    public let perRequest: Int
    public let maxRounds: Int
    /// Called with "generated 10/500 samples" and the like.
    public let report: @Sendable (String) -> Void

    public init(task: String, examples: [InstructionItem] = [], prompts: HarvestPrompts, generation: HarvestGeneration,
                target: Int, perRequest: Int = 5, maxRounds: Int? = nil, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.task = task
        self.examples = examples
        self.prompts = prompts
        self.generation = generation
        self.target = max(1, target)
        self.perRequest = max(1, perRequest)
        self.maxRounds = maxRounds ?? max(4, 3 * ((self.target + self.perRequest - 1) / self.perRequest))
        self.report = report
    }

    public var name: String { "generate-data" }
    public var plannedRequests: Int { (target + perRequest - 1) / perRequest }
    public static let templateNames = ["generate-data"]

    struct Sample: Codable, Equatable {
        var input: String
        var output: String
    }

    struct Rejected: Encodable {
        var round: Int
        var reason: String
        var text: String
    }

    /// `response_format` for an endpoint that enforces schemas: `{"samples": [{"input", "output"}, …]}`, 1 to
    /// `perRequest` of them (an object holding one array, which `parse` reads).
    static func responseFormat(_ perRequest: Int) -> ResponseFormat {
        .jsonSchema(name: "samples", schemaJSON: #"{"type":"object","properties":{"samples":{"type":"array","minItems":1,"maxItems":"#
            + "\(perRequest)" + #","items":{"type":"object","properties":{"input":{"type":"string"},"output":{"type":"string"}},"#
            + #""required":["input","output"],"additionalProperties":false}}},"required":["samples"],"additionalProperties":false}"#,
            strict: true)
    }

    /// The samples in a reply: a JSON array, an object holding one array, a single object, or JSON lines.
    /// Each element is a sample or the reason it is not one.
    static func parse(_ text: String) -> [Result<Sample, RejectReason>] {
        let body = HarvestRounds.unfenced(text)
        var elements: [Any] = []
        if let data = body.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data) {
            if let array = json as? [Any] {
                elements = array
            } else if let object = json as? [String: Any] {
                if object["input"] != nil || object["output"] != nil {
                    elements = [object]
                } else if let array = object.values.first(where: { $0 is [Any] }) as? [Any] {
                    elements = array
                }
            }
        } else {
            for line in body.split(whereSeparator: \.isNewline) {
                guard let data = line.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data) else { continue }
                elements.append(json)
            }
        }
        if elements.isEmpty { return [.failure(RejectReason("no JSON samples in the reply"))] }
        return elements.map { element in
            guard let o = element as? [String: Any] else { return .failure(RejectReason("not a JSON object")) }
            guard let input = stringValue(o["input"]), !input.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return .failure(RejectReason("missing or empty \"input\""))
            }
            guard let output = stringValue(o["output"]), !output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return .failure(RejectReason("missing or empty \"output\""))
            }
            return .success(Sample(input: input, output: output))
        }
    }

    struct RejectReason: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static func stringValue(_ value: Any?) -> String? {
        switch value {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        default: nil
        }
    }

    func prompt(round: Int) throws -> String {
        let shown = examples.prefix(3).map { e -> String in
            let input = e.input.isEmpty ? e.instruction : e.instruction + "\n" + e.input
            let data = (try? JSONLines.encoder.encode(Sample(input: input, output: e.output ?? ""))) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        return try prompts.render("generate-data", ["task": task, "num_samples": String(perRequest),
                                                    "examples": shown.isEmpty ? "(none)" : shown.joined(separator: "\n")])
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        var kept: [Sample] = []
        var rejected: [Rejected] = []
        var seen = Set<String>()
        let target = target
        let perRequest = perRequest
        let rounds = try await HarvestRounds.collect(
            session, stage: "generate-data", generation: generation, responseFormat: Self.responseFormat(perRequest),
            target: target, perRequest: perRequest, maxRounds: maxRounds, kept: { kept.count },
            prompt: { try prompt(round: $0) }
        ) { r, response in
            let parsed: [Result<Sample, RejectReason>] = session.isDryRun
                ? (0..<perRequest).map { .success(Sample(input: "dry run \(r).\($0)", output: "")) }
                : Self.parse(response.text)
            for result in parsed where kept.count < target {
                switch result {
                case .failure(let reason):
                    rejected.append(Rejected(round: r, reason: reason.message, text: response.text))
                case .success(let sample):
                    guard seen.insert(AnswerChecker.normalise(sample.input)).inserted else {
                        rejected.append(Rejected(round: r, reason: "duplicate input", text: sample.input))
                        continue
                    }
                    kept.append(sample)
                    if kept.count % 10 == 0 || kept.count == target { report("generated \(kept.count)/\(target) samples") }
                }
            }
        }
        if kept.count < target, session.stopped == nil, !session.isDryRun {
            session.note("generate-data kept \(kept.count) of \(target) samples: gave up after \(rounds) requests "
                + "(--max-rounds \(maxRounds)); \(rejected.count) rejected (see generate-data-rejected.jsonl) — "
                + "raise --max-rounds and run the same command to continue")
        }
        return ["generate-data.jsonl": try kept.map { try JSONLines.encoder.encode($0) },
                "generate-data-rejected.jsonl": try rejected.map { try JSONLines.encoder.encode($0) }]
    }
}
