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
///
/// `instructionItems` / `questionItems` check the whole file in one streaming pass and return a `HarvestItems` that
/// reads it again when walked (what harvest uses: memory stays flat in the file's size); `instructions` /
/// `questions` return every item in memory.
public enum HarvestInput {
    /// Every record as a JSON object with its 0-based index and line, read by DistillData's streaming
    /// `DatasetReader` (JSONL or a JSON array, detected by the first byte), which names the file, line and byte offset
    /// of invalid UTF-8 and bad JSON. One record at a time: nothing is kept.
    public struct ObjectIterator {
        let path: String
        let container: DatasetReader.Container
        let reader: DatasetReader
        let size: Int?
        var raw: DatasetReader.RawIterator
        var count = 0

        init(_ path: String) throws {
            do {
                reader = try DatasetReader(path: path)
            } catch let e as DataError where e.line == nil && !FileManager.default.isReadableFile(atPath: path) {
                throw DataError(file: path, "cannot open the input file (\(e.message)); check the path")
            }
            self.path = path
            container = reader.container
            size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue
            raw = try reader.makeRawIterator()
        }

        mutating func next() throws -> (index: Int, line: Int, object: JSONValue)? {
            guard let item = try raw.next() else { return nil }
            try reader.checkUTF8(item)
            let what = container == .jsonArray ? "record \(count + 1) of the array" : "the line"
            let value: JSONValue
            switch Result(catching: { try JSONValue.parse(item.bytes) }) {
            case .success(let parsed):
                value = parsed
            case .failure(let error):
                // A JSONL line that runs to the end of the file without a newline is a torn write, not a typo.
                let torn = container == .jsonLines && size == item.offset + item.bytes.count && item.bytes.last != 0x0A
                throw DataError(file: path, line: item.line, torn
                    ? "the last line is cut off (no newline, not valid JSON); complete or remove it"
                    : "\(what) is not valid JSON (\(error)); each record must be one JSON object")
            }
            guard case .object = value else {
                throw DataError(file: path, line: item.line, "\(what) is not a JSON object; each record must be one object")
            }
            count += 1
            return (count - 1, item.line, value)
        }
    }

    /// Calls `body` with each record's 0-based index, line and object, one at a time.
    static func forEachObject(_ path: String, _ body: (Int, Int, JSONValue) throws -> Void) throws {
        var objects = try ObjectIterator(path)
        while let (index, line, object) = try objects.next() { try body(index, line, object) }
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

    /// Alpaca-style items, checked in one pass and read again when walked. `instruction` is required; `input` and
    /// `output` are optional.
    public static func instructionItems(_ path: String, requireOutput: Bool = false) throws -> HarvestItems<InstructionItem> {
        try checked(path, id: \.id) { object, n, line in
            try instruction(object, index: n, line: line, path: path, requireOutput: requireOutput)
        }
    }

    /// Questions, checked in one pass and read again when walked (formats as for `questions`).
    public static func questionItems(_ path: String) throws -> HarvestItems<QuestionItem> {
        try checked(path, id: \.id) { object, n, line in try question(object, index: n, line: line, path: path) }
    }

    /// Alpaca-style items, all in memory. `instruction` is required; `input` and `output` are optional.
    public static func instructions(_ path: String, requireOutput: Bool = false) throws -> [InstructionItem] {
        try all(path, id: \.id) { object, n, line in
            try instruction(object, index: n, line: line, path: path, requireOutput: requireOutput)
        }
    }

    /// The most a recipe that needs every item at once (ICL's pool, self-instruct's seeds, generate-data's examples)
    /// reads into memory: such sets are small in practice, and a larger file is refused rather than let memory grow.
    public static let wholeSetLimit = 256 << 20

    /// Alpaca-style items all in memory, for a recipe that needs the whole set (`role` names it in the error):
    /// refused above `wholeSetLimit` bytes of file.
    public static func wholeSet(_ path: String, role: String) throws -> [InstructionItem] {
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= wholeSetLimit else {
            throw DataError(file: path, "is \(size >> 20) MiB; \(role) is held in memory whole, up to \(wholeSetLimit >> 20) "
                + "MiB — give a smaller file (a sample of it)")
        }
        return try instructions(path)
    }

    /// Questions, all in memory: `{"question", "answer"|"gold", "choices"}`, CommonsenseQA's `{"question": {"stem",
    /// "choices"}, "answerKey"}`, or Alpaca (`instruction` + `input` as the question, `output` as the gold answer).
    public static func questions(_ path: String) throws -> [QuestionItem] {
        try all(path, id: \.id) { object, n, line in try question(object, index: n, line: line, path: path) }
    }

    /// One pass over the file: every record parsed (so every error is found before any request), ids unique; the
    /// items are dropped as they are checked.
    static func checked<Item>(_ path: String, id: (Item) -> String,
                              parse: @escaping HarvestItems<Item>.Parse) throws -> HarvestItems<Item> {
        var ids = UniqueIDs(path: path)
        var count = 0
        try forEachObject(path) { n, line, object in
            try ids.insert(id(try parse(object, n, line)))
            count += 1
        }
        return HarvestItems(path: path, count: count, parse: parse)
    }

    static func all<Item>(_ path: String, id: (Item) -> String, parse: HarvestItems<Item>.Parse) throws -> [Item] {
        var ids = UniqueIDs(path: path)
        var items: [Item] = []
        try forEachObject(path) { n, line, object in
            let item = try parse(object, n, line)
            try ids.insert(id(item))
            items.append(item)
        }
        return items
    }

    static func instruction(_ object: JSONValue, index n: Int, line: Int, path: String,
                            requireOutput: Bool) throws -> InstructionItem {
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
        return InstructionItem(id: id(object, index: n + 1), instruction: instruction, input: string(object, "input") ?? "",
                               output: output, task: string(object, "task") ?? string(object, "category"))
    }

    static func question(_ object: JSONValue, index n: Int, line: Int, path: String) throws -> QuestionItem {
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
        return QuestionItem(id: id(object, index: n + 1), question: question, gold: gold, choices: choices)
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

    /// The ids seen so far, as 16 bytes of SHA-256 each (not the strings): ids key the journal, so they must be
    /// unique, and a file of a million items costs 16 MB to check, whatever the ids' length.
    struct UniqueIDs {
        let path: String
        var seen = Set<KeyDigest>()

        mutating func insert(_ id: String) throws {
            guard seen.insert(KeyDigest(sha256Of: id)).inserted else {
                throw DataError(file: path, field: "id", "id '\(id)' appears more than once; ids must be unique "
                    + "(they key the journal)")
            }
        }
    }
}
