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
    /// TRL conversational prompt-completion: `{"prompt":[turns…],"completion":[{"role":"assistant",…}]}` per line.
    case trlPromptCompletion = "trl-prompt-completion"
    /// TRL conversational preference (DPO): `{"prompt":[…],"chosen":[…],"rejected":[…]}`; from `preference` only.
    case dpo = "dpo"
    /// Harvest `cot.jsonl` (question, rationale, answer, correct): the reply is the rationale and its answer.
    case rationale = "cot"
    /// Harvest `counterfactual.jsonl` (question, choices, wrong_answer, explanation). Read only.
    case counterfactual = "counterfactual"
    /// Harvest `critique-revise.jsonl` (question, explanation, critique, revised): the reply is the revision.
    case critiqueRevise = "critique-revise"
    /// Harvest `preferences.jsonl` (prompt, chosen, rejected): DPO pairs; other targets take the chosen reply.
    case preference = "preference"

    /// Every format, for `--from`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The formats a dataset can be converted into.
    public static var targets: [DatasetFormat] { allCases.filter { !$0.isSourceOnly } }

    /// The formats a dataset can be converted into, for `--to`.
    public static var targetNames: String { targets.map(\.rawValue).joined(separator: ", ") }

    /// Whether items are Alpaca records (else conversations or a source-only format).
    public var isAlpaca: Bool { self == .alpacaJSON || self == .alpacaJSONL }

    /// Whether the format can only be read (converted from), never written.
    public var isSourceOnly: Bool {
        [.multipleChoice, .reasoning, .rationale, .counterfactual, .critiqueRevise, .preference].contains(self)
    }

    /// Whether the format is one of harvest's own outputs, read through `HarvestRowMapping`.
    public var isHarvestOutput: Bool { [.rationale, .counterfactual, .critiqueRevise, .preference].contains(self) }

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
        // Harvest outputs first: they carry keys that would otherwise read as another format.
        if keys.contains("chosen") && keys.contains("rejected") { return .preference }
        if keys.contains("prompt") && keys.contains("completion") { return .trlPromptCompletion }
        if keys.contains("wrong_answer") && keys.contains("explanation") { return .counterfactual }
        if keys.contains("rationale") && keys.contains("question") { return .rationale }
        if keys.contains("revised") && keys.contains("critique") { return .critiqueRevise }
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
