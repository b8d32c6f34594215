import Foundation

/// How an Alpaca item becomes a chat exchange and back, losslessly.
///
/// The user turn is the instruction alone when `input` is empty, else `instruction + "\n\n" + input`. Going back,
/// the user turn is split at its first blank line ("\n\n"). This round-trips exactly unless the instruction itself
/// contains a blank line while an input is present (or contains one and the input is empty); `isLossless` tells
/// those items apart so `convert` can warn about them. A system turn maps to Alpaca's optional `system` field.
public enum AlpacaChatMapping {
    public static let separator = "\n\n"

    /// The user turn for an instruction and input.
    public static func userTurn(instruction: String, input: String) -> String {
        input.isEmpty ? instruction : instruction + separator + input
    }

    /// The instruction and input a user turn came from.
    public static func split(userTurn: String) -> (instruction: String, input: String) {
        guard let r = userTurn.range(of: separator) else { return (userTurn, "") }
        return (String(userTurn[..<r.lowerBound]), String(userTurn[r.upperBound...]))
    }

    /// Whether `record` survives Alpaca → chat → Alpaca unchanged.
    public static func isLossless(_ record: InstructionRecord) -> Bool {
        let back = split(userTurn: userTurn(instruction: record.instruction, input: record.input))
        return back.instruction == record.instruction && back.input == record.input
    }

    /// The chat form of an Alpaca item: [system?], user, assistant.
    public static func chat(_ r: InstructionRecord) -> ChatRecord {
        var turns: [ChatTurn] = []
        if let s = r.system { turns.append(ChatTurn(role: "system", content: s)) }
        turns.append(ChatTurn(role: "user", content: userTurn(instruction: r.instruction, input: r.input)))
        turns.append(ChatTurn(role: "assistant", content: r.output))
        return ChatRecord(messages: turns)
    }

    /// The Alpaca form of a single exchange ([system?], user, assistant); nil with the reason for anything else.
    public static func alpaca(_ c: ChatRecord) -> Result<InstructionRecord, DataError> {
        var turns = c.messages[...]
        var system: String? = nil
        if turns.first?.role == "system" { system = turns.removeFirst().content }
        let roles = turns.map(\.role)
        guard roles == ["user", "assistant"] else {
            return .failure(DataError(file: "", field: "messages", "has turns [\(c.messages.map(\.role).joined(separator: ", "))]; "
                + "Alpaca holds one exchange ([system], user, assistant) — convert multi-turn chats to chat-jsonl, "
                + "openai-chat or sharegpt instead"))
        }
        let (instruction, input) = split(userTurn: turns[turns.startIndex].content)
        return .success(InstructionRecord(instruction: instruction, input: input, output: turns[turns.startIndex + 1].content,
                                          system: system))
    }
}
