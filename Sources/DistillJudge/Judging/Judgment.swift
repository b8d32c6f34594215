import Foundation

/// Which rung of the whole parse ladder produced a verdict: the text rungs of the first reply, then the repair turn
/// and re-sampling. `rule` marks a judge-free score (exact, numeric or multiple-choice matching).
public enum ParseStep: String, Codable, Sendable, CaseIterable {
    case strict
    case extracted
    case trailingCommas = "trailing-commas"
    case closedTruncation = "closed-truncation"
    case repairTurn = "repair-turn"
    case resampled
    case rule

    init(_ rung: TextRung) {
        switch rung {
        case .strict: self = .strict
        case .extracted: self = .extracted
        case .trailingCommas: self = .trailingCommas
        case .closedTruncation: self = .closedTruncation
        }
    }
}

/// How the judge was asked to format its reply; negotiated down when an endpoint rejects one.
public enum ReplyFormatMode: String, Codable, Sendable, CaseIterable {
    /// `response_format: json_schema` (strict; scores as enums). Constrained decoding where supported.
    case jsonSchema = "json_schema"
    /// `response_format: json_object`: valid JSON, no schema.
    case jsonObject = "json_object"
    /// No `response_format`: the prompt alone asks for JSON.
    case prompt
}

/// One request to the judge and what came back, kept verbatim for the report's drill-down.
public struct JudgeAttempt: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case first, repair, resample }
    public var kind: Kind
    public var format: ReplyFormatMode
    public var reply: String
    public var finishReason: String?
    public var rung: TextRung?
    public var problems: [VerdictProblem]
    /// Set when `reply` holds only the first `maxStoredReplyBytes` of a longer reply.
    public var replyTruncated: Bool? = nil
    /// The reply's full length in UTF-8 bytes, when it was truncated.
    public var replyBytes: Int? = nil

    /// The most of one reply a journal keeps: a verdict takes a few hundred bytes, and a judge that answers with
    /// megabytes would otherwise make the journal slow to re-read on every resume.
    public static let maxStoredReplyBytes = 64 << 10

    /// `text` cut to `limit` UTF-8 bytes at a character boundary, and its full length when it was cut.
    public static func capped(_ text: String, limit: Int = maxStoredReplyBytes) -> (text: String, originalBytes: Int?) {
        let utf8 = text.utf8
        guard utf8.count > limit else { return (text, nil) }
        var end = utf8.index(utf8.startIndex, offsetBy: max(limit, 0))
        while end > utf8.startIndex, (utf8[end] & 0xC0) == 0x80 { end = utf8.index(before: end) }  // no split scalar
        return (String(decoding: utf8[..<end], as: UTF8.self), utf8.count)
    }

    enum CodingKeys: String, CodingKey {
        case kind, format, reply, rung, problems
        case finishReason = "finish_reason"
        case replyTruncated = "reply_truncated"
        case replyBytes = "reply_bytes"
    }
}

/// One line of the judgment journal: a verdict, an honest "unscored", or a transport failure.
///
/// Only `scored` carries `scores`. An unscored judgment keeps the raw replies and, separately, the criteria that
/// did validate (`partial_scores`), which are shown but never averaged. Neither `unscored` nor `failed` counts as a
/// verdict: a later run asks those items again.
public struct Judgment: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case scored, unscored, failed }

    public var key: String
    /// The label of the model whose output was judged (a column of the report).
    public var model: String
    /// 0-based position of the item in that model's generation file.
    public var item: Int
    public var repeatIndex: Int
    public var status: Status
    public var scores: [String: Int]?
    public var partialScores: [String: Int]?
    public var reason: String?
    public var step: ParseStep?
    public var problems: [VerdictProblem]
    public var attempts: [JudgeAttempt]
    /// Transport failure text (status `failed`), with any key material removed.
    public var error: String?
    public var instruction: String
    public var input: String
    public var referenceOutput: String
    public var generateOutput: String
    public var judgeModel: String
    public var rubric: String
    public var rubricVersion: String
    /// ISO 8601 time the judgment finished.
    public var time: String
    /// Rule scoring: the final answer read from the output (shown in the drill-down and the CSV).
    public var extractedAnswer: String? = nil
    /// The test item's task (its `category`), for the report's per-task breakdown.
    public var category: String? = nil

    enum CodingKeys: String, CodingKey {
        case key, model, item, status, scores, reason, step, problems, attempts, error, instruction, input, rubric, time, category
        case repeatIndex = "repeat"
        case partialScores = "partial_scores"
        case referenceOutput = "reference_output"
        case generateOutput = "generate_output"
        case judgeModel = "judge_model"
        case rubricVersion = "rubric_version"
        case extractedAnswer = "extracted_answer"
    }

    public var isScored: Bool { status == .scored }
}
