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

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether items are Alpaca records (else conversations).
    public var isAlpaca: Bool { self == .alpacaJSON || self == .alpacaJSONL }

    /// Detects the format from the container and the first item's keys. `messages` reads as `chat-jsonl`
    /// (OpenAI fine-tuning files are the same shape).
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
        throw DataError(file: path, line: first.line, "cannot tell the format from keys "
            + keys.sorted().joined(separator: ", ")
            + "; expected Alpaca (instruction, input, output), messages or conversations — or pass --from (\(names))")
    }
}
