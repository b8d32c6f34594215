import Foundation

/// Finds every problem in a dataset in one pass — where `DatasetReader` stops at the first — so a user can fix a
/// file in one go: lines that are not JSON, invalid UTF-8, items that do not fit the schema, double-encoded text,
/// empty outputs and exact duplicates.
public struct DatasetChecker {
    /// The record shapes `check` knows.
    public enum Kind: String, Sendable, CaseIterable {
        case alpaca, chat, multipleChoice = "mc", generation, rationale, reasoning

        /// Guesses the kind from an item's keys.
        public static func detect(_ item: JSONValue) -> Kind? {
            let k = Set(item.keys)
            if k.contains("generate_output") { return .generation }
            if k.contains("instruction") && k.contains("output") { return .alpaca }
            if k.contains("messages") || k.contains("conversations") { return .chat }
            if k.contains("rationale") { return .rationale }
            if k.contains("choices") || k.contains("answerKey") { return .multipleChoice }
            if k.contains("question") && k.contains("answer") { return .reasoning }
            return nil
        }
    }

    /// One problem, located.
    public struct Problem: Sendable, CustomStringConvertible {
        public enum Category: String, Sendable, Codable { case json, encoding, schema, mojibake, empty, duplicate }
        public var category: Category
        public var error: DataError
        public var description: String { error.description }
    }

    /// What the check found.
    public struct Report: Sendable {
        public var file: String
        public var kind: Kind?
        public var items = 0
        /// The first `keep` problems, in file order (all of them go to `onProblem`).
        public var problems: [Problem] = []
        /// Problems per category, all of them.
        public var counts: [Problem.Category: Int] = [:]
        /// How many problems in all.
        public var total: Int { counts.values.reduce(0, +) }
    }

    public var kind: Kind?
    /// Progress on big files (stderr); nil for none.
    public var progress: ProgressReporter?
    /// How many problems a report keeps; a file that is wrong on every line must not fill memory.
    public var keep: Int

    public init(kind: Kind? = nil, keep: Int = 10_000) {
        self.kind = kind
        self.keep = keep
    }

    /// Checks `path`, streaming; `onProblem` sees every problem as it is found. With `fixMojibakeTo`, also writes
    /// a copy with double-encoded strings repaired (items that are not valid JSON are copied unchanged).
    public func check(path: String, fixMojibakeTo fixPath: String? = nil,
                      onProblem: ((Problem) -> Void)? = nil) throws -> Report {
        let reader = try DatasetReader(path: path, progress: progress)
        var report = Report(file: path, kind: kind)
        var firstSeen: [ContentKey: Int] = [:]
        func record(_ p: Problem) {
            report.counts[p.category, default: 0] += 1
            if report.problems.count < keep { report.problems.append(p) }
            onProblem?(p)
        }
        let fixer = try fixPath.map { try DatasetWriter(path: $0) }
        var it = try reader.makeRawIterator()
        while true {
            let next: RawItem?
            do { next = try it.next() } catch let e as DataError {
                // A broken JSON array (truncated, missing comma) ends the scan: nothing after it can be located.
                record(Problem(category: .json, error: e))
                break
            }
            guard let raw = next else { break }
            report.items += 1
            func add(_ c: Problem.Category, _ field: String?, _ message: String) {
                record(Problem(category: c, error: DataError(file: path, line: raw.line, field: field, message)))
            }
            do { try reader.checkUTF8(raw) } catch let e as DataError {
                record(Problem(category: .encoding, error: e))
                continue
            }
            let value: JSONValue
            do { value = try JSONValue.parse(raw.bytes) } catch {
                add(.json, nil, "not valid JSON (\(error)): each item must be one complete JSON object")
                if let fixer { try fixer.append(json: raw.bytes) }
                continue
            }
            if report.kind == nil { report.kind = Kind.detect(value) }
            let key = ContentKey(value)
            if let first = firstSeen[key] {
                add(.duplicate, nil, "exact duplicate of line \(first)")
            } else {
                firstSeen[key] = raw.line
            }
            for (field, text) in value.strings() {
                if let f = Mojibake.detect(text) {
                    record(Problem(category: .mojibake,
                        error: DatasetReader.mojibakeError(f, file: path, line: raw.line, field: field)))
                }
            }
            if let fixer { try fixer.append(value.mapStrings(Mojibake.repair)) }
            if let kind = report.kind {
                if let e = schemaProblem(kind, raw, reader) {
                    record(Problem(category: .schema, error: e))
                } else if let field = emptyOutput(kind, value) {
                    add(.empty, field, "is empty: an item with no output teaches the student to say nothing; remove it or fill it in")
                }
            }
        }
        try fixer?.finish()
        return report
    }

    private func schemaProblem(_ kind: Kind, _ raw: RawItem, _ reader: DatasetReader) -> DataError? {
        do {
            switch kind {
            case .alpaca: _ = try reader.decode(InstructionRecord.self, raw)
            case .chat:
                let chat = try reader.decode(ChatRecord.self, raw)
                if chat.messages.isEmpty {
                    return DataError(file: reader.path, line: raw.line, field: "messages", "is empty")
                }
            case .multipleChoice: _ = try reader.decode(MultipleChoiceItem.self, raw)
            case .generation: _ = try reader.decode(GenerationRecord.self, raw)
            case .rationale: _ = try reader.decode(RationaleRecord.self, raw)
            case .reasoning: _ = try reader.decode(ReasoningItem.self, raw)
            }
            return nil
        } catch let e as DataError {
            return e
        } catch {
            return DataError(file: reader.path, line: raw.line, "\(error)")
        }
    }

    /// The field holding the item's output when it is empty or whitespace.
    private func emptyOutput(_ kind: Kind, _ v: JSONValue) -> String? {
        func blank(_ s: String?) -> Bool { s.map { $0.allSatisfy(\.isWhitespace) } ?? false }
        switch kind {
        case .alpaca: return blank(v["output"]?.stringValue) ? "output" : nil
        case .generation: return blank(v["generate_output"]?.stringValue) ? "generate_output" : nil
        case .rationale: return blank(v["rationale"]?.stringValue) ? "rationale" : nil
        case .reasoning, .multipleChoice:
            return blank(v["answer"]?.stringValue) ? "answer" : nil
        case .chat:
            for name in ["messages", "conversations"] {
                guard case .array(let turns)? = v[name] else { continue }
                for (i, t) in turns.enumerated() {
                    let role = (t["role"] ?? t["from"])?.stringValue
                    let text = (t["content"] ?? t["value"])?.stringValue
                    if role == "assistant" || role == "gpt", blank(text) {
                        return "\(name)[\(i)].\(t["content"] != nil ? "content" : "value")"
                    }
                }
            }
            return nil
        }
    }
}
