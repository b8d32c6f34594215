import Foundation

/// One conversation to train on, with where it came from (for errors and counts).
public struct TrainingConversation: Sendable, Equatable {
    public var messages: [ChatTurn]
    public var file: String
    public var line: Int

    public init(messages: [ChatTurn], file: String, line: Int) {
        self.messages = messages
        self.file = file
        self.line = line
    }
}

/// Why an item was left out of training; counted and reported, never silent.
public enum TrainingDropReason: String, Error, Sendable, CaseIterable, Comparable {
    /// The teacher's reply was cut off (`finish_reason: "length"` or `truncated: true`).
    case truncated
    /// No assistant text to learn from (empty or whitespace-only).
    case empty
    /// A CoT path whose answer did not match the gold answer (`correct: false`).
    case incorrect
    /// Longer than `--max-seq` tokens, with `--drop-long`.
    case tooLong = "too-long"
    /// Nothing left to predict after truncation to `--max-seq` (the prompt alone fills it).
    case noTargets = "no-targets"

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Reads training conversations straight from what `distill harvest` writes and from the usual fine-tuning files,
/// with no conversion step. The shape is chosen per item from its keys:
///
/// | keys | source | user turn → assistant turn |
/// |---|---|---|
/// | `messages` | OpenAI chat / fine-tuning, chat-jsonl | as given (every assistant turn is trained) |
/// | `conversations` | ShareGPT | `human`/`gpt` mapped to user/assistant |
/// | `instruction`, `output` | Alpaca; harvest `answer`, `cot-student`, `sft` (critique-revise), `self-instruct`, `icl` | instruction + blank line + input → output |
/// | `input`, `output` | harvest `generate-data` | input → output |
/// | `question`, `rationale`, `answer` | harvest `cot` | question → `rationale --> answer` (seed 001's student format) |
/// | `question`, `revised` | harvest `critique-revise` | question → revised explanation |
/// | `prompt`, `chosen` | harvest `preferences` (TRL DPO shape) | prompt → chosen |
///
/// Alpaca's optional `system` becomes a system turn. Items whose reply was cut off (`finish_reason: "length"`,
/// `truncated: true`), whose reply is empty, or CoT paths marked `correct: false` are dropped and counted.
public struct TrainingItemReader: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Every conversation in the file, in file order, and the items dropped by reason.
    public func read() throws -> (conversations: [TrainingConversation], dropped: [TrainingDropReason: Int]) {
        var out: [TrainingConversation] = []
        var dropped: [TrainingDropReason: Int] = [:]
        try DatasetReader(path: path).forEachValue { item in
            switch try conversation(item.value, line: item.line) {
            case .success(let c): out.append(c)
            case .failure(let reason): dropped[reason, default: 0] += 1
            }
        }
        return (out, dropped)
    }

    /// One item as a conversation, or why it is dropped; a `DataError` for a shape it cannot train on.
    public func conversation(_ v: JSONValue, line: Int) throws -> Result<TrainingConversation, TrainingDropReason> {
        guard case .object = v else {
            throw DataError(file: path, line: line, "not a JSON object; each item must be an object")
        }
        func string(_ key: String) throws -> String? {
            guard let m = v[key] else { return nil }
            if case .null = m { return nil }
            guard let s = m.stringValue else {
                throw DataError(file: path, line: line, field: key, "should be a string")
            }
            return s
        }
        if v["finish_reason"]?.stringValue == "length" || v["truncated"] == .bool(true) { return .failure(.truncated) }
        if v["correct"] == .bool(false) { return .failure(.incorrect) }
        var turns: [ChatTurn]
        let keys = Set(v.keys)
        if keys.contains("messages") || keys.contains("conversations") {
            let record: ChatRecord
            do {
                record = try JSONDecoder().decode(ChatRecord.self, from: v.compactData())
            } catch let e as DecodingError {
                throw DatasetReader.dataError(e, ChatRecord.self, file: path, line: line)
            }
            turns = record.messages
            for (i, t) in turns.enumerated() where !["system", "user", "assistant"].contains(t.role) {
                throw DataError(file: path, line: line, field: "messages[\(i)].role",
                    "'\(t.role)' cannot be trained on; roles must be system, user or assistant")
            }
            guard turns.contains(where: { $0.role == "assistant" }) else {
                throw DataError(file: path, line: line, field: "messages", "has no assistant turn to learn from")
            }
            if turns.contains(where: { $0.role == "assistant" && Self.isBlank($0.content) }) { return .failure(.empty) }
        } else if keys.contains("instruction"), let output = try string("output") {
            let instruction = try string("instruction") ?? ""
            turns = [.user(AlpacaChatMapping.userTurn(instruction: instruction, input: try string("input") ?? "")),
                     .assistant(output)]
            if let system = try string("system") { turns.insert(.system(system), at: 0) }
        } else if let input = try string("input"), let output = try string("output") {
            turns = [.user(input), .assistant(output)]
        } else if let question = try string("question"), let rationale = try string("rationale"),
                  let answer = try string("answer") {
            turns = [.user(question), .assistant(Self.isBlank(rationale) ? "" : rationale + " --> " + answer)]
        } else if let question = try string("question"), let revised = try string("revised") {
            turns = [.user(question), .assistant(revised)]
        } else if let prompt = try string("prompt"), let chosen = try string("chosen") {
            turns = [.user(prompt), .assistant(chosen)]
        } else {
            throw DataError(file: path, line: line, "cannot tell what to train on from keys "
                + v.keys.sorted().joined(separator: ", ") + "; expected messages (OpenAI chat), conversations (ShareGPT), "
                + "instruction/input/output (Alpaca and harvest answer/sft/self-instruct/icl), input/output "
                + "(generate-data), question/rationale/answer (cot) or question/revised (critique-revise)")
        }
        if let last = turns.last, last.role == "assistant", Self.isBlank(last.content) { return .failure(.empty) }
        return .success(TrainingConversation(messages: turns, file: path, line: line))
    }

    static func isBlank(_ s: String) -> Bool { s.allSatisfy { $0.isWhitespace } }
}
