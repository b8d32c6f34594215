import Foundation

/// How a reply's text became JSON: the rungs of the parse ladder that work on one reply, in the order tried.
public enum TextRung: String, Codable, Sendable, CaseIterable {
    /// The whole reply is one JSON object.
    case strict
    /// A JSON object found inside fences or prose.
    case extracted
    /// An object that parsed only after dropping trailing commas.
    case trailingCommas = "trailing-commas"
    /// A cut-off object closed at its last complete member.
    case closedTruncation = "closed-truncation"
}

/// Why a reply (or one criterion of it) gave no score. Kept in the journal and shown in the report.
public enum InvalidReason: String, Codable, Sendable, CaseIterable {
    case empty
    case noJSON = "no-json"
    case missingKey = "missing-key"
    case wrongType = "wrong-type"
    case notInteger = "not-integer"
    case outOfRange = "out-of-range"
    case ambiguous
    case contentFilter = "content-filter"
    case transport
}

/// One problem found while validating a reply.
public struct VerdictProblem: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public var reason: InvalidReason
    /// The criterion it concerns, or nil for the whole reply.
    public var criterion: String?
    public var detail: String

    public init(_ reason: InvalidReason, criterion: String? = nil, _ detail: String) {
        self.reason = reason
        self.criterion = criterion
        self.detail = detail
    }

    public var description: String { (criterion.map { "\($0): " } ?? "") + detail }
}

/// The outcome of parsing one judge reply against a rubric.
public struct ParsedReply: Sendable, Equatable {
    /// Scores by the rubric's own criterion names, for the criteria that were valid.
    public var scores: [String: Int]
    /// Empty when every criterion has a valid score.
    public var problems: [VerdictProblem]
    /// The rung that produced the JSON used (nil when no JSON object was found).
    public var rung: TextRung?
    /// The judge's stated reason, if it gave one.
    public var reason: String?

    public var isValid: Bool { problems.isEmpty }
}

/// The text rungs of the parse ladder (strict → extracted → trailing commas → closed truncation), then key and range
/// validation. A parse failure never becomes a score: anything doubtful is a `VerdictProblem`.
///
/// Decisions, so they are visible in one place:
/// - Keys match the rubric's criteria ignoring case, spaces, `_` and `-` ("fluency", "Fluency "). A renamed key
///   ("Accuracy" for "Correctness") is a missing key; extra keys are ignored.
/// - A score must be an integer literal inside the rubric's scale: `7`, `-1` → out of range; `3.5`, `4.0`, `4e0` →
///   not an integer; `"4"` (a string) → wrong type. Nothing is clamped, rounded or coerced; the repair turn may fix it.
/// - Several JSON objects carrying criterion keys: accepted only when they all validate to identical scores (a judge
///   repeating itself); otherwise the reply is ambiguous. The same key twice with different values is ambiguous too.
/// - A number at the very end of a cut-off reply may have lost digits, so a truncated object keeps only members
///   followed by a delimiter.
public struct VerdictParser: Sendable {
    public let criteria: [String]
    public let scale: ClosedRange<Int>
    /// Keys taken as the judge's reason (normalised).
    static let reasonKeys: Set<String> = ["reason", "reasoning", "explanation", "rationale", "justification"]

    /// How much of a reply is searched for a verdict.
    static let maxParsedBytes = 1 << 20
    /// How many `{` are tried as the start of a verdict object, per rung.
    static let maxStarts = 64

    public init(criteria: [String], scale: ClosedRange<Int>) {
        self.criteria = criteria
        self.scale = scale
    }

    /// Lower-cased with spaces, `_` and `-` removed: "Correct ness" and "correct_ness" both give "correctness".
    static func normalise(_ key: String) -> String {
        String(key.lowercased().unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) && $0 != "_" && $0 != "-" })
    }

    public func parse(_ reply: String, finishReason: String? = nil) -> ParsedReply {
        if finishReason == "content_filter" {
            return invalid(.contentFilter, "the judge's provider filtered the reply (finish_reason content_filter)")
        }
        // Only the first MiB is searched (a verdict is a few hundred bytes), and only the first `maxStarts` braces are
        // tried as the start of an object: a hostile reply of 10 MB of `{"a":` would otherwise cost time quadratic in
        // its length.
        let head = reply.utf8.count > Self.maxParsedBytes ? JudgeAttempt.capped(reply, limit: Self.maxParsedBytes).text : reply
        let trimmed = head.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return invalid(.empty, "the reply is empty") }

        if let whole = try? LenientJSONParser.parseWhole(trimmed), case .object = whole {
            return validate([whole], rung: .strict)
        }
        let bytes = Array(trimmed.utf8)
        let found = scanObjects(bytes)
        if !found.isEmpty {
            let relevant = found.filter { hasCriterionKey($0.value) }
            let rung: TextRung = found.contains { $0.rung == .trailingCommas && hasCriterionKey($0.value) } ? .trailingCommas : .extracted
            return validate(relevant.isEmpty ? [found[0].value] : relevant.map(\.value), rung: rung)
        }
        // The untrimmed reply: whitespace after a final number shows the number was complete.
        if let closed = closeTruncated(Array(head.utf8)) {
            return validate([closed], rung: .closedTruncation)
        }
        return invalid(.noJSON, "no JSON object in the reply")
    }

    /// Every complete top-level object in the text, left to right, each parsed strictly or else with trailing commas.
    private func scanObjects(_ bytes: [UInt8]) -> [(value: JSONValue, rung: TextRung)] {
        var out: [(JSONValue, TextRung)] = []
        var at = 0, starts = 0
        while at < bytes.count, starts < Self.maxStarts {
            guard bytes[at] == UInt8(ascii: "{") else { at += 1; continue }
            starts += 1
            if let r = try? LenientJSONParser.parseValue(bytes, from: at) {
                out.append((r.value, .extracted))
                at = r.end
            } else if let r = try? LenientJSONParser.parseValue(bytes, from: at, options: .init(allowTrailingCommas: true)) {
                out.append((r.value, .trailingCommas))
                at = r.end
            } else {
                at += 1
            }
        }
        return out
    }

    /// The first object that runs into the end of the reply, closed at its last complete member.
    private func closeTruncated(_ bytes: [UInt8]) -> JSONValue? {
        for start in bytes.indices.lazy.filter({ bytes[$0] == UInt8(ascii: "{") }).prefix(Self.maxStarts) {
            let options = LenientJSONParser.Options(allowTrailingCommas: true, closeTruncated: true)
            if let r = try? LenientJSONParser.parseValue(bytes, from: start, options: options), r.wasTruncated {
                return r.value
            }
        }
        return nil
    }

    private func hasCriterionKey(_ v: JSONValue) -> Bool {
        guard case .object(let members) = v else { return false }
        let wanted = Set(criteria.map(Self.normalise))
        return members.contains { wanted.contains(Self.normalise($0.key)) }
    }

    private func invalid(_ reason: InvalidReason, _ detail: String) -> ParsedReply {
        ParsedReply(scores: [:], problems: [VerdictProblem(reason, detail)], rung: nil, reason: nil)
    }

    /// Validates the candidate objects; several must agree exactly.
    private func validate(_ objects: [JSONValue], rung: TextRung) -> ParsedReply {
        let results = objects.map { validateOne($0, rung: rung) }
        guard let first = results.first else { return invalid(.noJSON, "no JSON object in the reply") }
        if results.count > 1, results.contains(where: { $0.scores != first.scores || $0.problems != first.problems }) {
            return ParsedReply(scores: [:], problems: [VerdictProblem(.ambiguous, "\(results.count) JSON objects with different scores")],
                               rung: rung, reason: first.reason)
        }
        return first
    }

    private func validateOne(_ object: JSONValue, rung: TextRung) -> ParsedReply {
        guard case .object(let members) = object else { return invalid(.noJSON, "the JSON is not an object") }
        var scores: [String: Int] = [:]
        var problems: [VerdictProblem] = []
        for criterion in criteria {
            let key = Self.normalise(criterion)
            let values = members.filter { Self.normalise($0.key) == key }.map(\.value)
            guard let value = values.first else {
                problems.append(VerdictProblem(.missingKey, criterion: criterion, "no '\(criterion)' key"))
                continue
            }
            if values.contains(where: { $0 != value }) {
                problems.append(VerdictProblem(.ambiguous, criterion: criterion, "'\(criterion)' given \(values.count) times with different values"))
                continue
            }
            switch checkScore(value) {
            case .success(let s): scores[criterion] = s
            case .failure(let p): problems.append(VerdictProblem(p.reason, criterion: criterion, p.detail))
            }
        }
        var reason: String? = nil
        for m in members where Self.reasonKeys.contains(Self.normalise(m.key)) {
            if case .string(let s) = m.value { reason = s; break }
        }
        return ParsedReply(scores: scores, problems: problems, rung: rung, reason: reason)
    }

    private func checkScore(_ value: JSONValue) -> Result<Int, VerdictProblem> {
        switch value {
        case .number(let literal):
            let isIntegerLiteral = !literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
            guard isIntegerLiteral else { return .failure(VerdictProblem(.notInteger, "\(literal) is not an integer")) }
            guard let n = Int(literal), scale.contains(n) else {
                return .failure(VerdictProblem(.outOfRange, "\(literal) is outside \(scale.lowerBound)–\(scale.upperBound)"))
            }
            return .success(n)
        case .string(let s):
            return .failure(VerdictProblem(.wrongType, "\"\(s.prefix(20))\" is a string, not an integer"))
        default:
            return .failure(VerdictProblem(.wrongType, "\(value.kindName), not an integer"))
        }
    }
}
