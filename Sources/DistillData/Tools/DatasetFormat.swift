import Foundation

/// The dataset layouts `distill data convert` reads and writes.
public enum DatasetFormat: String, Sendable, CaseIterable {
    /// `[{"instruction","input","output"}, …]` — Alpaca as a JSON array (as Stanford Alpaca ships it).
    case alpacaJSON = "alpaca-json"
    /// One Alpaca object per line.
    case alpacaJSONL = "alpaca-jsonl"
    /// `{"messages":[{"role","content"},…]}` per line, any roles and turns.
    case chatJSONL = "chat-jsonl"
    /// OpenAI fine-tuning: `{"messages":[{"role":"system"}?,{"role":"user"},{"role":"assistant"},…]}` per line,
    /// roles limited to system/user/assistant and at least one assistant turn.
    case openAIChat = "openai-chat"
    /// `{"conversations":[{"from":"human"|"gpt"|"system","value"},…]}` per line.
    case shareGPT = "sharegpt"
    /// Multiple-choice items (`MultipleChoiceItem`, also CommonsenseQA's native shape). Read only: the prompt they
    /// become cannot be taken apart again reliably.
    case multipleChoice = "mc"
    /// Questions with a gold answer (`ReasoningItem`). Read only: an Alpaca item has no `kind`.
    case reasoning = "reasoning"

    /// Every format, for `--from`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The formats a dataset can be converted into.
    public static var targets: [DatasetFormat] { allCases.filter { !$0.isSourceOnly } }

    /// The formats a dataset can be converted into, for `--to`.
    public static var targetNames: String { targets.map(\.rawValue).joined(separator: ", ") }

    /// Whether items are Alpaca records (else conversations or a source-only format).
    public var isAlpaca: Bool { self == .alpacaJSON || self == .alpacaJSONL }

    /// Whether the format can only be read (converted from), never written.
    public var isSourceOnly: Bool { self == .multipleChoice || self == .reasoning }

    /// Detects the format from the container and the first item's keys. `messages` reads as `chat-jsonl`
    /// (OpenAI fine-tuning files are the same shape); `choices` or `answerKey` means `mc`; `question` with
    /// `answer` (and no choices) means `reasoning`.
    public static func detect(path: String) throws -> DatasetFormat {
        let reader = try DatasetReader(path: path)
        var it = try reader.makeRawIterator()
        guard let first = try it.next() else { throw DataError(file: path, "no items to detect the format from") }
        try reader.checkUTF8(first)
        let value: JSONValue
        do { value = try JSONValue.parse(first.bytes) } catch {
            throw DataError(file: path, line: first.line, "not valid JSON (\(error)); cannot detect the format")
        }
        let keys = Set(value.keys)
        if keys.contains("instruction") || keys.contains("output") {
            return reader.container == .jsonArray ? .alpacaJSON : .alpacaJSONL
        }
        if keys.contains("messages") { return .chatJSONL }
        if keys.contains("conversations") { return .shareGPT }
        if keys.contains("choices") || keys.contains("answerKey") { return .multipleChoice }
        if keys.contains("question") && keys.contains("answer") { return .reasoning }
        throw DataError(file: path, line: first.line, "cannot tell the format from keys "
            + keys.sorted().joined(separator: ", ")
            + "; expected Alpaca (instruction, input, output), messages, conversations, multiple choice (question, "
            + "choices, answer) or reasoning (question, answer) — or pass --from (\(names))")
    }
}
