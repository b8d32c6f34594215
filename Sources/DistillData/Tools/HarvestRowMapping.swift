import Foundation

/// Harvest outputs as training data: which rows of `cot.jsonl`, `counterfactual.jsonl`, `critique-revise.jsonl`,
/// `preferences.jsonl`, `generate-data.jsonl` and the Alpaca-shaped files become which (prompt, reply) pair, and
/// which are dropped — cut off at max_tokens (`"truncated": true`), empty, with no assistant reply, or (CoT) with
/// a wrong final answer — so `data convert` can count them instead of passing them on silently.
public enum HarvestRowMapping {
    /// Why a row is not training data.
    public enum Drop: String, Error, Sendable, CaseIterable {
        case truncated = "truncated (cut off at max_tokens)"
        case empty = "empty reply"
        case noAssistant = "no assistant reply"
        case incorrect = "wrong final answer (cot)"
    }

    /// A preference pair (`preferences.jsonl`: the revised explanation is chosen over the first one).
    public struct Preference: Sendable, Equatable {
        public var prompt: String
        public var chosen: String
        public var rejected: String
        public var system: String?
    }

    /// A row as a (prompt, reply) pair, or why it is dropped. `format` is one of the harvest source formats.
    public static func pair(_ v: JSONValue, format: DatasetFormat) -> Result<InstructionRecord, Drop> {
        if v["truncated"] == .bool(true) { return .failure(.truncated) }
        let id = v["id"]?.stringValue
        func text(_ key: String) -> String { v[key]?.stringValue ?? "" }
        let record: InstructionRecord
        switch format {
        case .rationale:
            if v["correct"] == .bool(false) { return .failure(.incorrect) }
            let rationale = text("rationale").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !rationale.isEmpty else { return .failure(.empty) }
            let answer = text("answer")
            record = InstructionRecord(instruction: text("question"),
                                       output: answer.isEmpty ? rationale : rationale + "\nTherefore, the answer is \(answer).",
                                       id: id)
        case .counterfactual:
            let choices = (v["choices"].flatMap { c -> [JSONValue]? in if case .array(let a) = c { a } else { nil } } ?? [])
                .map { "(\($0["label"]?.stringValue ?? "")) \($0["text"]?.stringValue ?? "")" }.joined(separator: "\n")
            let wrong = "(\(text("wrong_answer"))) \(text("wrong_text"))"
            record = InstructionRecord(instruction: "Question: \(text("question"))\nOptions:\n\(choices)\n\n"
                + "Give the reasoning that would lead someone to choose \(wrong).", output: text("explanation"), id: id)
        case .critiqueRevise:
            record = InstructionRecord(instruction: text("question"), output: text("revised"), id: id)
        case .preference:
            record = InstructionRecord(instruction: text("prompt"), output: text("chosen"), id: id)
        default:
            // Alpaca-shaped; generate-data rows are {"input","output"}: the input is the instruction.
            let hasInstruction = v["instruction"] != nil
            record = InstructionRecord(instruction: hasInstruction ? text("instruction") : text("input"),
                                       input: hasInstruction ? text("input") : "", output: text("output"),
                                       system: v["system"]?.stringValue, id: id)
        }
        guard !record.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .failure(.empty) }
        return .success(record)
    }

    /// A `preferences.jsonl` row as a pair, or why it is dropped.
    public static func preference(_ v: JSONValue) -> Result<Preference, Drop> {
        if v["truncated"] == .bool(true) { return .failure(.truncated) }
        let chosen = v["chosen"]?.stringValue ?? "", rejected = v["rejected"]?.stringValue ?? ""
        guard !chosen.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
              !rejected.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .failure(.empty) }
        return .success(Preference(prompt: v["prompt"]?.stringValue ?? "", chosen: chosen, rejected: rejected,
                                   system: v["system"]?.stringValue))
    }

    /// A TRL prompt-completion row read back as one conversation (prompt turns, then the completion).
    public static func chat(promptCompletion v: JSONValue) -> ChatRecord {
        func turns(_ key: String) -> [ChatTurn] {
            guard case .array(let items)? = v[key] else {
                return v[key]?.stringValue.map { [ChatTurn(role: key == "prompt" ? "user" : "assistant", content: $0)] } ?? []
            }
            return items.map { ChatTurn(role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "") }
        }
        return ChatRecord(messages: turns("prompt") + turns("completion"))
    }

    /// Why a conversation is not training data (no assistant turn, or an empty last one), or nil.
    public static func drop(_ chat: ChatRecord) -> Drop? {
        guard let last = chat.messages.last(where: { $0.role == "assistant" }) else { return .noAssistant }
        return last.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? .empty : nil
    }
}

/// TRL's conversational prompt-completion row: everything before the last assistant turn, and that turn.
struct TRLPromptCompletion: Encodable {
    var prompt: [ChatTurn]
    var completion: [ChatTurn]

    init?(_ chat: ChatRecord) {
        guard let last = chat.messages.lastIndex(where: { $0.role == "assistant" }) else { return nil }
        prompt = Array(chat.messages[..<last])
        completion = [chat.messages[last]]
    }
}

/// TRL's conversational preference row (DPO): the prompt turns, the chosen and the rejected reply.
struct TRLPreference: Encodable {
    var prompt: [ChatTurn]
    var chosen: [ChatTurn]
    var rejected: [ChatTurn]

    init(_ p: HarvestRowMapping.Preference) {
        prompt = (p.system.map { [ChatTurn(role: "system", content: $0)] } ?? []) + [ChatTurn(role: "user", content: p.prompt)]
        chosen = [ChatTurn(role: "assistant", content: p.chosen)]
        rejected = [ChatTurn(role: "assistant", content: p.rejected)]
    }
}
