import DistillClient
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
    /// A labelled option: the same record `distill data` reads and writes for multiple-choice items.
    public typealias Choice = MultipleChoiceItem.Choice

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
    /// Every record as a JSON object with its line, read by DistillData's streaming `DatasetReader` (JSONL or a JSON
    /// array, detected by the first byte), which names the file, line and byte offset of invalid UTF-8 and bad JSON.
    /// Calls `body` with each record's 0-based index, line and object, one at a time (no record is kept, so memory
    /// holds the items the recipe builds, not every parsed JSON tree as well).
    static func forEachObject(_ path: String, _ body: (Int, Int, JSONValue) throws -> Void) throws {
        let reader: DatasetReader
        do {
            reader = try DatasetReader(path: path)
        } catch let e as DataError where e.line == nil && !FileManager.default.isReadableFile(atPath: path) {
            throw DataError(file: path, "cannot open the input file (\(e.message)); check the path")
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue
        var items = try reader.makeRawIterator()
        var count = 0
        while let raw = try items.next() {
            try reader.checkUTF8(raw)
            let what = reader.container == .jsonArray ? "record \(count + 1) of the array" : "the line"
            let value: JSONValue
            switch Result(catching: { try JSONValue.parse(raw.bytes) }) {
            case .success(let parsed):
                value = parsed
            case .failure(let error):
                // A JSONL line that runs to the end of the file without a newline is a torn write, not a typo.
                let torn = reader.container == .jsonLines && size == raw.offset + raw.bytes.count && raw.bytes.last != 0x0A
                throw DataError(file: path, line: raw.line, torn
                    ? "the last line is cut off (no newline, not valid JSON); complete or remove it"
                    : "\(what) is not valid JSON (\(error)); each record must be one JSON object")
            }
            guard case .object = value else {
                throw DataError(file: path, line: raw.line, "\(what) is not a JSON object; each record must be one object")
            }
            try body(count, raw.line, value)
            count += 1
        }
    }

    static func string(_ object: JSONValue, _ key: String) -> String? {
        switch object[key] {
        case .string(let s): s
        case .number(let n): n
        default: nil
        }
    }

    static func id(_ object: JSONValue, index: Int) -> String {
        string(object, "id") ?? String(index)
    }

    /// Alpaca-style items. `instruction` is required; `input` and `output` are optional.
    public static func instructions(_ path: String, requireOutput: Bool = false) throws -> [InstructionItem] {
        var items: [InstructionItem] = []
        try forEachObject(path) { n, line, object in
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
        try forEachObject(path) { n, line, object in
            var question = string(object, "question")
            var choicesValue = object["choices"]
            if let nested = object["question"], case .object = nested {
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

    static func parseChoices(_ value: JSONValue?, path: String, line: Int) throws -> [QuestionItem.Choice] {
        guard let value else { return [] }
        guard case .array(let array) = value else {
            throw DataError(file: path, line: line, field: "choices", "should be an array of {\"label\",\"text\"} or strings")
        }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ").map(String.init)
        return try array.enumerated().map { i, element in
            if case .string(let text) = element, i < letters.count { return .init(label: letters[i], text: text) }
            if case .object = element, let label = string(element, "label"), let text = string(element, "text") {
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
