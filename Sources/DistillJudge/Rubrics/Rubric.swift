import DistillData
import Foundation

/// What a judge scores and how it is asked: criteria with descriptions, an integer scale, and the two prompt parts.
///
/// A rubric is one UTF-8 file in `prompts/` (`judge.txt` is seed 000's four criteria). The format:
/// ```
/// # comments
/// name: seed-000
/// scale: 0-5
/// criterion: Correctness | Is the information accurate and logical?
/// criterion: …
/// === system ===
/// …the system prompt; may use {criteria} {scale_min} {scale_max} {reply_format}
/// === user ===
/// …the user message; may use {instruction} {input} {reference_output} {generate_output}
/// ```
/// Sections use the prompt library's syntax (`{name}` placeholders, `{{`/`}}` literal braces). Errors name the file and line.
public struct Rubric: Sendable {
    public struct Criterion: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
        public init(name: String, description: String) {
            self.name = name
            self.description = description
        }
    }

    public var name: String
    public var criteria: [Criterion]
    public var scale: ClosedRange<Int>
    /// SHA-256 of the file's text: part of every judgment's cache key and printed in the report.
    public var version: String
    public var source: String
    let system: PromptTemplate
    let user: PromptTemplate

    public static let systemPlaceholders: Set<String> = ["criteria", "scale_min", "scale_max", "reply_format"]
    public static let userPlaceholders: Set<String> = ["instruction", "input", "reference_output", "generate_output"]

    public var criterionNames: [String] { criteria.map(\.name) }

    /// Loads `prompts/<name>.txt`, or a path when `nameOrPath` contains `/` or ends in `.txt`.
    public static func load(_ nameOrPath: String, library: PromptLibrary? = nil) throws -> Rubric {
        let path: String
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".txt") {
            path = nameOrPath
        } else {
            path = try (library ?? PromptLibrary()).path(of: nameOrPath)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, "no such rubric file (a rubric is a name in prompts/, e.g. 'judge', or a path to a .txt file)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw DataError(file: path, "not valid UTF-8") }
        return try parse(text, source: path)
    }

    /// Parses rubric text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> Rubric {
        var name: String?
        var scale: ClosedRange<Int>?
        var criteria: [Criterion] = []
        var section: String?
        var sections: [String: [String]] = [:]
        var sectionLine: [String: Int] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let number = i + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("==="), trimmed.hasSuffix("==="), trimmed.count > 6 {
                let title = trimmed.dropFirst(3).dropLast(3).trimmingCharacters(in: .whitespaces).lowercased()
                guard title == "system" || title == "user" else {
                    throw DataError(file: source, line: number, "unknown section '\(title)' (sections are '=== system ===' and '=== user ===')")
                }
                guard sections[title] == nil else { throw DataError(file: source, line: number, "section '\(title)' given twice") }
                section = title
                sections[title] = []
                sectionLine[title] = number
                continue
            }
            if let section {
                sections[section, default: []].append(line)
                continue
            }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw DataError(file: source, line: number, "expected 'key: value' (name, scale, criterion) before the sections")
            }
            let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "name": name = value
            case "scale": scale = try parseScale(value, source: source, line: number)
            case "criterion":
                let parts = value.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let first = parts.first, !first.isEmpty else {
                    throw DataError(file: source, line: number, field: "criterion", "expected 'criterion: Name | what it means'")
                }
                guard !criteria.contains(where: { VerdictParser.normalise($0.name) == VerdictParser.normalise(first) }) else {
                    throw DataError(file: source, line: number, field: "criterion", "'\(first)' is listed twice")
                }
                guard !VerdictParser.reasonKeys.contains(VerdictParser.normalise(first)) else {
                    throw DataError(file: source, line: number, field: "criterion", "'\(first)' is reserved for the judge's reason")
                }
                criteria.append(Criterion(name: first, description: parts.count > 1 ? parts[1] : ""))
            default:
                throw DataError(file: source, line: number, "unknown key '\(key)' (known: name, scale, criterion)")
            }
        }
        guard !criteria.isEmpty else { throw DataError(file: source, field: "criterion", "a rubric needs at least one 'criterion:' line") }
        guard let scale else { throw DataError(file: source, field: "scale", "missing 'scale: MIN-MAX' (e.g. 'scale: 0-5')") }
        guard let systemLines = sections["system"], let userLines = sections["user"] else {
            throw DataError(file: source, "a rubric needs both '=== system ===' and '=== user ===' sections")
        }
        let system = try PromptTemplate(name: "system", text: trimBlankEdges(systemLines), source: source)
        let user = try PromptTemplate(name: "user", text: trimBlankEdges(userLines), source: source)
        for (template, allowed, title) in [(system, systemPlaceholders, "system"), (user, userPlaceholders, "user")] {
            let unknown = template.placeholders.subtracting(allowed)
            if !unknown.isEmpty {
                throw DataError(file: source, line: sectionLine[title], "section '\(title)' uses \(unknown.sorted().map { "{\($0)}" }.joined(separator: ", ")); "
                    + "it may use \(allowed.sorted().map { "{\($0)}" }.joined(separator: " "))")
            }
        }
        return Rubric(name: name ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent,
                      criteria: criteria, scale: scale, version: SHA256.hex(text), source: source,
                      system: system, user: user)
    }

    private static func parseScale(_ value: String, source: String, line: Int) throws -> ClosedRange<Int> {
        let parts = value.split(whereSeparator: { $0 == "-" || $0 == "–" || $0 == " " }).compactMap { Int($0) }
        guard parts.count == 2, parts[0] < parts[1] else {
            throw DataError(file: source, line: line, field: "scale", "expected 'MIN-MAX' with MIN < MAX, e.g. '0-5'; got '\(value)'")
        }
        return parts[0]...parts[1]
    }

    private static func trimBlankEdges(_ lines: [String]) -> String {
        var lines = lines[...]
        while let f = lines.first, f.trimmingCharacters(in: .whitespaces).isEmpty { lines = lines.dropFirst() }
        while let l = lines.last, l.trimmingCharacters(in: .whitespaces).isEmpty { lines = lines.dropLast() }
        return lines.joined(separator: "\n")
    }
}
