import DistillData
import Foundation

/// An instruction-style input item (Alpaca: `instruction`, `input`, `output`), with an optional `task` name that
/// the `icl` recipe groups by.
public struct InstructionItem: Sendable, Equatable, Codable {
    public var id: String
    public var instruction: String
    public var input: String
    public var output: String?
    public var task: String?

    public init(id: String, instruction: String, input: String = "", output: String? = nil, task: String? = nil) {
        self.id = id
        self.instruction = instruction
        self.input = input
        self.output = output
        self.task = task
    }
}

/// A question with an optional gold answer and optional multiple-choice options.
public struct QuestionItem: Sendable, Equatable {
    public struct Choice: Sendable, Equatable, Codable {
        public var label: String
        public var text: String
        public init(label: String, text: String) {
            self.label = label
            self.text = text
        }
    }

    public var id: String
    public var question: String
    /// The gold answer: a choice label for multiple choice, else the reference text or number.
    public var gold: String?
    public var choices: [Choice]

    public init(id: String, question: String, gold: String? = nil, choices: [Choice] = []) {
        self.id = id
        self.question = question
        self.gold = gold
        self.choices = choices
    }

    /// The question with its options, one per line: `(A) …`.
    public var questionWithChoices: String {
        choices.isEmpty ? question : question + "\n" + choicesText
    }

    public var choicesText: String { choices.map { "(\($0.label)) \($0.text)" }.joined(separator: "\n") }

    public func choice(_ label: String) -> Choice? { choices.first { $0.label == label } }
}

/// Reads recipe inputs: JSONL, or a JSON array (first non-space byte `[`). Each record is a JSON object; ids come
/// from an `id` field or the 1-based record number. Errors name the file, line and field, and say what is expected.
public enum HarvestInput {
    /// Raw objects with their line (JSONL) or record (JSON array) number.
    static func objects(_ path: String) throws -> [(line: Int, object: [String: Any])] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, "cannot open the input file; check the path")
        }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        try? handle.close()
        let first = head.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        var out: [(Int, [String: Any])] = []
        if first == UInt8(ascii: "[") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
                throw DataError(file: path, "not a valid JSON array; fix the JSON or convert it to JSONL (`distill data convert`)")
            }
            for (i, element) in array.enumerated() {
                guard let object = element as? [String: Any] else {
                    throw DataError(file: path, line: i + 1, "record \(i + 1) of the array is not a JSON object")
                }
                out.append((i + 1, object))
            }
            return out
        }
        for line in JSONLinesReader(path: path) {
            if let bad = UTF8Validation.firstInvalidByte(in: line.bytes) {
                throw DataError(file: path, line: line.number, String(format:
                    "invalid UTF-8 at byte %d of the line (byte 0x%02X); the file is not UTF-8 — re-save it as UTF-8",
                    bad.offset, bad.byte))
            }
            guard let object = (try? JSONSerialization.jsonObject(with: line.bytes)) as? [String: Any] else {
                throw DataError(file: path, line: line.number,
                                line.complete ? "not a JSON object; each line must be one object"
                                              : "the last line is cut off (no newline, not valid JSON); complete or remove it")
            }
            out.append((line.number, object))
        }
        return out
    }

    static func string(_ object: [String: Any], _ key: String) -> String? {
        switch object[key] {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        default: nil
        }
    }

    static func id(_ object: [String: Any], index: Int) -> String {
        string(object, "id") ?? String(index)
    }

    /// Alpaca-style items. `instruction` is required; `input` and `output` are optional.
    public static func instructions(_ path: String, requireOutput: Bool = false) throws -> [InstructionItem] {
        var items: [InstructionItem] = []
        for (n, (line, object)) in try objects(path).enumerated() {
            guard let instruction = string(object, "instruction") ?? string(object, "prompt") else {
                throw DataError(file: path, line: line, field: "instruction",
                                "missing; each record needs an \"instruction\" (Alpaca format: instruction, input, output)")
            }
            let output = string(object, "output")
            // Seed 003's lesson: text arrives double-encoded; say so rather than send mojibake to a paid teacher.
            try DatasetReader.checkMojibake([("instruction", instruction), ("input", string(object, "input") ?? ""),
                                             ("output", output ?? "")], file: path, line: line)
            if requireOutput && output == nil {
                throw DataError(file: path, line: line, field: "output", "missing; this recipe needs worked examples")
            }
            items.append(InstructionItem(id: id(object, index: n + 1), instruction: instruction,
                                         input: string(object, "input") ?? "", output: output,
                                         task: string(object, "task") ?? string(object, "category")))
        }
        try requireUniqueIDs(items.map(\.id), path: path)
        return items
    }

    /// Questions: `{"question", "answer"|"gold", "choices"}`, CommonsenseQA's `{"question": {"stem", "choices"},
    /// "answerKey"}`, or Alpaca (`instruction` + `input` as the question, `output` as the gold answer).
    public static func questions(_ path: String) throws -> [QuestionItem] {
        var items: [QuestionItem] = []
        for (n, (line, object)) in try objects(path).enumerated() {
            var question = string(object, "question")
            var choicesValue = object["choices"]
            if let nested = object["question"] as? [String: Any] {
                question = string(nested, "stem")
                choicesValue = nested["choices"] ?? choicesValue
            }
            var gold = string(object, "answer") ?? string(object, "answerKey") ?? string(object, "gold")
            if question == nil, let instruction = string(object, "instruction") {
                let input = string(object, "input") ?? ""
                question = input.isEmpty ? instruction : instruction + "\n\n" + input
                gold = gold ?? string(object, "output")
            }
            guard let question, !question.isEmpty else {
                throw DataError(file: path, line: line, field: "question",
                                "missing or empty; give \"question\" (or \"instruction\"), with \"answer\" as the gold answer")
            }
            let choices = try parseChoices(choicesValue, path: path, line: line)
            try DatasetReader.checkMojibake([("question", question), ("answer", gold ?? "")]
                                            + choices.map { ("choices", $0.text) }, file: path, line: line)
            if !choices.isEmpty, let g = gold, !choices.contains(where: { $0.label == g }) {
                throw DataError(file: path, line: line, field: "answer",
                                "'\(g)' is not one of the choice labels \(choices.map(\.label).joined(separator: ", "))")
            }
            items.append(QuestionItem(id: id(object, index: n + 1), question: question, gold: gold, choices: choices))
        }
        try requireUniqueIDs(items.map(\.id), path: path)
        return items
    }

    static func parseChoices(_ value: Any?, path: String, line: Int) throws -> [QuestionItem.Choice] {
        guard let value else { return [] }
        guard let array = value as? [Any] else {
            throw DataError(file: path, line: line, field: "choices", "should be an array of {\"label\",\"text\"} or strings")
        }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ").map(String.init)
        return try array.enumerated().map { i, element in
            if let text = element as? String, i < letters.count { return .init(label: letters[i], text: text) }
            if let o = element as? [String: Any], let label = string(o, "label"), let text = string(o, "text") {
                return .init(label: label, text: text)
            }
            throw DataError(file: path, line: line, field: "choices[\(i)]", "should be {\"label\",\"text\"} or a string")
        }
    }

    static func requireUniqueIDs(_ ids: [String], path: String) throws {
        var seen = Set<String>()
        for id in ids where !seen.insert(id).inserted {
            throw DataError(file: path, field: "id", "id '\(id)' appears more than once; ids must be unique "
                + "(they key the journal)")
        }
    }
}
