import Foundation

/// Converts a dataset between Alpaca (JSON/JSONL), chat JSONL, OpenAI fine-tuning chat and ShareGPT, streaming.
/// Multiple-choice and reasoning items are read too (one way): each becomes an Alpaca item through
/// `QuestionItemMapping`, then converts like one. Item ids are kept by the targets that have a place for them
/// (Alpaca's optional `id`, ShareGPT's `id`); chat-jsonl and openai-chat hold only `messages`.
public struct DatasetConverter {
    /// What a conversion did.
    public struct Summary: Sendable {
        public var from: DatasetFormat
        public var to: DatasetFormat
        public var items = 0
        /// Lines of Alpaca items whose instruction holds a blank line, so chat → Alpaca would split them elsewhere.
        /// Not collected for the one-way sources: their prompts have blank lines by design, and the user turn the
        /// model sees is the same however it is split.
        public var lossyLines: [Int] = []
        /// Rows left out because they are not training data (truncated, empty, no assistant reply, wrong answer),
        /// by reason.
        public var dropped: [String: Int] = [:]
    }

    public var from: DatasetFormat?
    public var to: DatasetFormat
    /// A system prompt added to conversations that have none (chat outputs only).
    public var system: String?
    /// Progress on big files (stderr); nil for none.
    public var progress: ProgressReporter?

    public init(from: DatasetFormat? = nil, to: DatasetFormat, system: String? = nil) {
        self.from = from
        self.to = to
        self.system = system
    }

    /// Converts `input` into `output` (written atomically). Throws the first bad item as `file:line: field: …`, and
    /// refuses a source-only target (`mc`, `reasoning`) before writing anything.
    public func convert(input: String, output: String) throws -> Summary {
        guard !to.isSourceOnly else {
            throw DataError(file: output, "cannot write '\(to.rawValue)': it is a source format only (read, never "
                + "written); convert to one of \(DatasetFormat.targetNames)")
        }
        let from = try self.from ?? DatasetFormat.detect(path: input)
        if to == .dpo, from != .preference {
            throw DataError(file: input, "--to dpo needs preference pairs (prompt, chosen, rejected: the preferences.jsonl "
                + "of a critique-revise harvest); this file reads as '\(from.rawValue)'")
        }
        let reader = try DatasetReader(path: input, progress: progress)
        let writer = try DatasetWriter(path: output, container: to == .alpacaJSON ? .jsonArray : .jsonLines)
        var summary = Summary(from: from, to: to)
        func parse(_ raw: RawItem) throws -> JSONValue {
            do { return try JSONValue.parse(raw.bytes) } catch {
                throw DataError(file: input, line: raw.line, "not valid JSON (\(error)); run 'distill data check' to see every problem")
            }
        }
        if from == .multipleChoice {
            try reader.forEach(MultipleChoiceItem.self) { item in
                try write(.alpaca(QuestionItemMapping.alpaca(item.value)), line: item.line, file: input, to: writer)
                summary.items += 1
            }
        } else if from == .reasoning {
            try reader.forEach(ReasoningItem.self) { item in
                try write(.alpaca(QuestionItemMapping.alpaca(item.value)), line: item.line, file: input, to: writer)
                summary.items += 1
            }
        } else if from == .preference {
            try reader.forEachRaw { raw in
                let v = try parse(raw)
                switch HarvestRowMapping.preference(v) {
                case .failure(let drop): summary.dropped[drop.rawValue, default: 0] += 1
                case .success(let p):
                    if to == .dpo {
                        try writer.append(TRLPreference(p))
                    } else {
                        try write(.alpaca(InstructionRecord(instruction: p.prompt, output: p.chosen, system: p.system,
                                                            id: v["id"]?.stringValue)), line: raw.line, file: input, to: writer)
                    }
                    summary.items += 1
                }
            }
        } else if from.isAlpaca || from.isHarvestOutput {
            let decoder = JSONDecoder()
            try reader.forEachRaw { raw in
                let v = try parse(raw)
                // Alpaca items go through the typed reader first: it keeps its field-by-field errors (a missing
                // "output" is a broken file, not a row to drop) and its mojibake check.
                var typed: InstructionRecord? = nil
                if from.isAlpaca, v["instruction"] != nil {
                    typed = try reader.decode(InstructionRecord.self, raw, decoder: decoder)
                    try DatasetReader.checkMojibake(typed?.textFields ?? [], file: input, line: raw.line)
                }
                switch HarvestRowMapping.pair(v, format: from) {
                case .failure(let drop):
                    summary.dropped[drop.rawValue, default: 0] += 1
                case .success(let mapped):
                    let record = typed ?? mapped
                    if from.isAlpaca, !to.isAlpaca, !AlpacaChatMapping.isLossless(record) { summary.lossyLines.append(raw.line) }
                    try write(.alpaca(record), line: raw.line, file: input, to: writer)
                    summary.items += 1
                }
            }
        } else if from == .trlPromptCompletion {
            try reader.forEachRaw { raw in
                let chat = HarvestRowMapping.chat(promptCompletion: try parse(raw))
                if let drop = HarvestRowMapping.drop(chat) {
                    summary.dropped[drop.rawValue, default: 0] += 1
                    return
                }
                try write(.chat(chat), line: raw.line, file: input, to: writer)
                summary.items += 1
            }
        } else {
            try reader.forEach(ChatRecord.self) { item in
                if let drop = HarvestRowMapping.drop(item.value) {
                    summary.dropped[drop.rawValue, default: 0] += 1
                    return
                }
                try write(.chat(item.value), line: item.line, file: input, to: writer)
                summary.items += 1
            }
        }
        try writer.finish()
        return summary
    }

    private enum Item {
        case alpaca(InstructionRecord)
        case chat(ChatRecord)
    }

    private func write(_ item: Item, line: Int, file: String, to writer: DatasetWriter) throws {
        func located(_ e: DataError) -> DataError { DataError(file: file, line: line, field: e.field, e.message) }
        if to.isAlpaca {
            switch item {
            case .alpaca(let r): try writer.append(r)
            case .chat(let c):
                switch AlpacaChatMapping.alpaca(c) {
                case .success(let r): try writer.append(r)
                case .failure(let e): throw located(e)
                }
            }
            return
        }
        var chat: ChatRecord
        var id: String? = nil
        switch item {
        case .alpaca(let r): (chat, id) = (AlpacaChatMapping.chat(r), r.id)
        case .chat(let c): chat = c
        }
        if let system, chat.messages.first?.role != "system" {
            chat.messages.insert(ChatTurn(role: "system", content: system), at: 0)
        }
        switch to {
        case .shareGPT:
            var shareGPT = chat.shareGPT
            shareGPT.id = id
            try writer.append(shareGPT)
        case .openAIChat:
            if let e = Self.openAIProblem(chat) { throw located(e) }
            try writer.append(chat)
        case .trlPromptCompletion:
            guard let row = TRLPromptCompletion(chat) else {
                throw located(DataError(file: "", field: "messages", "has no assistant turn to complete"))
            }
            try writer.append(row)
        default:
            try writer.append(chat)
        }
    }

    /// Why a conversation is not valid OpenAI fine-tuning data, or nil if it is.
    public static func openAIProblem(_ chat: ChatRecord) -> DataError? {
        for (i, t) in chat.messages.enumerated() where !["system", "user", "assistant"].contains(t.role) {
            return DataError(file: "", field: "messages[\(i)].role",
                             "'\(t.role)' is not a role OpenAI fine-tuning accepts (system, user, assistant)")
        }
        guard chat.messages.contains(where: { $0.role == "assistant" }) else {
            return DataError(file: "", field: "messages", "has no assistant turn; OpenAI fine-tuning needs at least one")
        }
        return nil
    }
}
