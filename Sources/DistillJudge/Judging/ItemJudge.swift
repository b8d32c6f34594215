import DistillData
import DistillClient
import Foundation

/// Settings of the judge requests and of the content-retry rungs (repair turn, re-sampling). Transport retries
/// (429, 5xx, resets) belong to the client underneath; these only handle replies that arrived but were unusable.
public struct JudgeSettings: Sendable {
    public var model: String
    public var temperature: Double = 0
    public var maxTokens: Int = 512
    /// Re-samples after the repair turn (Prometheus re-samples up to 10; 2 keeps a bad judge's cost bounded).
    public var maxResamples: Int = 2
    public var resampleTemperature: Double = 0.7
    public var repairTurn: Bool = true

    public init(model: String) { self.model = model }
}

/// Judges one generation with the full ladder: ask, parse (text rungs), one repair turn, bounded re-samples, and
/// otherwise an unscored judgment with every raw reply kept. Transport errors are thrown, never turned into verdicts.
public struct ItemJudge: Sendable {
    public let client: any ChatCompleting
    public let rubric: Rubric
    public let settings: JudgeSettings
    public let negotiator: ReplyFormatNegotiator
    let parser: VerdictParser

    public init(client: any ChatCompleting, rubric: Rubric, settings: JudgeSettings, negotiator: ReplyFormatNegotiator) {
        self.client = client
        self.rubric = rubric
        self.settings = settings
        self.negotiator = negotiator
        self.parser = VerdictParser(criteria: rubric.criterionNames, scale: rubric.scale)
    }

    /// The verdict part of a judgment (the caller adds identity and item text).
    public struct Outcome: Sendable {
        public var status: Judgment.Status
        public var scores: [String: Int]
        public var reason: String?
        public var step: ParseStep?
        public var problems: [VerdictProblem]
        public var attempts: [JudgeAttempt]
    }

    public func judge(_ record: GenerationRecord, repeatIndex: Int = 0) async throws -> Outcome {
        let messages = try rubric.messages(for: record)
        var attempts: [JudgeAttempt] = []

        let first = try await ask(messages, kind: .first, temperature: settings.temperature, seed: repeatIndex == 0 ? nil : repeatIndex)
        attempts.append(first.attempt)
        if first.parsed.isValid { return scored(first.parsed, step: ParseStep(first.parsed.rung ?? .strict), attempts) }
        var last = first.parsed

        if settings.repairTurn, first.attempt.finishReason != "content_filter" {
            let repair = messages + [.assistant(first.attempt.reply), .user(rubric.repairMessage(problems: first.parsed.problems))]
            let r = try await ask(repair, kind: .repair, temperature: settings.temperature, seed: nil)
            attempts.append(r.attempt)
            if r.parsed.isValid { return scored(r.parsed, step: .repairTurn, attempts) }
            last = r.parsed
        }
        for k in 0..<settings.maxResamples {
            let r = try await ask(messages, kind: .resample, temperature: settings.resampleTemperature, seed: 1000 * (repeatIndex + 1) + k)
            attempts.append(r.attempt)
            if r.parsed.isValid { return scored(r.parsed, step: .resampled, attempts) }
            last = r.parsed
        }
        // Unscored: the last reply's problems say why it still failed; every reply is in `attempts`.
        return Outcome(status: .unscored, scores: last.scores, reason: last.reason.map { JudgeAttempt.capped($0).text },
                       step: nil, problems: last.problems,
                       attempts: attempts)
    }

    private func scored(_ p: ParsedReply, step: ParseStep, _ attempts: [JudgeAttempt]) -> Outcome {
        Outcome(status: .scored, scores: p.scores, reason: p.reason.map { JudgeAttempt.capped($0).text }, step: step,
                problems: [], attempts: attempts)
    }

    /// One request, stepping the reply format down when the endpoint rejects it.
    private func ask(_ messages: [ChatMessage], kind: JudgeAttempt.Kind, temperature: Double, seed: Int?) async throws
        -> (attempt: JudgeAttempt, parsed: ParsedReply) {
        var mode = await negotiator.mode
        while true {
            let request = ChatRequest(model: settings.model, messages: messages, temperature: temperature,
                                      maxTokens: settings.maxTokens, seed: seed,
                                      responseFormat: ReplyFormatNegotiator.responseFormat(mode, rubric: rubric))
            let response: ChatResponse
            do {
                response = try await client.complete(request)
            } catch where ReplyFormatNegotiator.isUnsupportedFormat(error) {
                guard let next = await negotiator.downgrade(from: mode) else { throw error }
                mode = next
                continue
            }
            let choice = response.choices.first
            let text = choice?.message.content ?? ""
            let parsed = parser.parse(text, finishReason: choice?.finishReason)
            let stored = JudgeAttempt.capped(text)
            return (JudgeAttempt(kind: kind, format: mode, reply: stored.text, finishReason: choice?.finishReason,
                                 rung: parsed.rung, problems: parsed.problems,
                                 replyTruncated: stored.originalBytes.map { _ in true }, replyBytes: stored.originalBytes), parsed)
        }
    }
}
