import Foundation

/// A chat format chosen from a model's Jinja `chat_template`, rendered without a Jinja engine.
///
/// Two families cover the supported models. ChatML (SmolLM2, Qwen2/2.5): `<|im_start|>role\n…<|im_end|>\n`,
/// with the default system prompt the template inserts when the conversation has none (SmolLM2's
/// "You are a helpful AI assistant named SmolLM…", Qwen2.5's "You are Qwen, created by Alibaba Cloud…").
/// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` after BOS, contents trimmed, and for
/// 3.1+ the system block with "Cutting Knowledge Date"/"Today Date". Tools and tool calls are not rendered.
public struct ChatTemplate: Sendable, Equatable {
    /// The two supported prompt formats.
    public enum Format: Sendable, Equatable {
        case chatML
        case llama3
    }

    public let format: Format
    /// ChatML: the system message inserted when the first message is not a system message.
    public let defaultSystemPrompt: String?
    /// False when the template text matched neither family and ChatML was assumed.
    public let isRecognized: Bool
    public let bosToken: String?
    public let eosToken: String?
    /// Llama 3.1+: the knowledge cutoff and the "Today Date" the template writes into the system block.
    public let llamaDates: (knowledge: String, today: String)?

    public static func == (a: ChatTemplate, b: ChatTemplate) -> Bool {
        a.format == b.format && a.defaultSystemPrompt == b.defaultSystemPrompt && a.isRecognized == b.isRecognized
            && a.bosToken == b.bosToken && a.eosToken == b.eosToken
            && a.llamaDates?.knowledge == b.llamaDates?.knowledge && a.llamaDates?.today == b.llamaDates?.today
    }

    /// Chooses the format from the template text (nil: plain ChatML without a default system prompt).
    public init(templateText: String?, bosToken: String?, eosToken: String?) {
        self.bosToken = bosToken
        self.eosToken = eosToken
        let text = templateText ?? ""
        if text.contains("<|start_header_id|>") {
            format = .llama3
            defaultSystemPrompt = nil
            isRecognized = true
            llamaDates = Self.llamaDates(in: text)
        } else {
            format = .chatML
            defaultSystemPrompt = Self.chatMLDefaultSystem(in: text)
            isRecognized = templateText == nil || text.contains("<|im_start|>")
            llamaDates = nil
        }
    }

    /// The prompt text for `messages`; with `addGenerationPrompt`, ends with the assistant header.
    /// Encode it with `addSpecial: false`: the text already carries BOS where the format wants it.
    public func render(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool) -> String {
        switch format {
        case .chatML: return renderChatML(messages, addGenerationPrompt)
        case .llama3: return renderLlama3(messages, addGenerationPrompt)
        }
    }

    /// Text that ends the assistant's turn; generation stops on any of these.
    public var stopStrings: [String] {
        var stops = format == .chatML ? ["<|im_end|>"] : ["<|eot_id|>"]
        if let eosToken, !stops.contains(eosToken) { stops.append(eosToken) }
        return stops
    }

    /// The ids of `stopStrings` that are single tokens in `tokenizer`, plus its EOS id.
    public func stopTokenIDs(in tokenizer: Tokenizer) -> [Int] {
        var ids = stopStrings.compactMap { tokenizer.id(of: $0) }
        if let eos = tokenizer.eosID, !ids.contains(eos) { ids.append(eos) }
        return ids
    }

    private func renderChatML(_ messages: [(role: String, content: String)], _ generation: Bool) -> String {
        var out = ""
        if let system = defaultSystemPrompt, let first = messages.first, first.role != "system" {
            out += "<|im_start|>system\n" + system + "<|im_end|>\n"
        }
        for m in messages { out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n" }
        if generation { out += "<|im_start|>assistant\n" }
        return out
    }

    private func renderLlama3(_ messages: [(role: String, content: String)], _ generation: Bool) -> String {
        // Jinja's `trim` is Python's str.strip().
        func trim(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }
        func turn(_ role: String, _ content: String) -> String {
            "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + content + "<|eot_id|>"
        }
        var out = ""
        var rest = messages[...]
        if let dates = llamaDates {
            // 3.1+: a system block always comes first; the user's system message goes at its end.
            out += bosToken ?? ""
            var system = ""
            if let first = rest.first, first.role == "system" { system = trim(first.content); rest = rest.dropFirst() }
            out += turn("system", "Cutting Knowledge Date: \(dates.knowledge)\nToday Date: \(dates.today)\n\n" + system)
        } else if !rest.isEmpty {
            out += bosToken ?? ""
        }
        for m in rest { out += turn(m.role, trim(m.content)) }
        if generation { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        return out
    }

    /// The literal after `<|im_start|>system` + newline, up to `<|im_end|>`, when it is plain text
    /// (not `' + messages[0]['content'] + '`). Jinja string escapes (`\n`, `\'`) are undone.
    static func chatMLDefaultSystem(in template: String) -> String? {
        for marker in ["<|im_start|>system\\n", "<|im_start|>system\n"] {
            var search = template.startIndex..<template.endIndex
            while let open = template.range(of: marker, range: search) {
                search = open.upperBound..<template.endIndex
                guard let close = template.range(of: "<|im_end|>", range: open.upperBound..<template.endIndex) else { break }
                let body = String(template[open.upperBound..<close.lowerBound])
                // A quote or brace means the text is spliced from variables, not a literal default.
                if body.isEmpty || Self.hasUnescapedQuoteOrBrace(body) { continue }
                return unescapeJinja(body)
            }
        }
        return nil
    }

    private static func hasUnescapedQuoteOrBrace(_ s: String) -> Bool {
        var escaped = false
        for c in s {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "'" || c == "\"" || c == "{" || c == "}" { return true }
        }
        return false
    }

    private static func unescapeJinja(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Llama 3.1+ templates write "Cutting Knowledge Date: …" and a default `date_string`; 3.2 asks
    /// `strftime_now("%d %b %Y")`, which transformers answers with today's date.
    static func llamaDates(in template: String) -> (knowledge: String, today: String)? {
        guard let cut = template.range(of: "Cutting Knowledge Date: ") else { return nil }
        let tail = template[cut.upperBound...]
        let knowledge = String(tail.prefix { $0 != "\\" && $0 != "\n" && $0 != "\"" && $0 != "'" })
        if template.contains("strftime_now") {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.dateFormat = "dd MMM yyyy"
            return (knowledge, f.string(from: Date()))
        }
        var today = "26 Jul 2024"
        if let set = template.range(of: "set date_string = ") {
            let rest = template[set.upperBound...].drop { $0 == "\"" || $0 == "'" || $0 == "\\" }
            today = String(rest.prefix { $0 != "\"" && $0 != "'" && $0 != "\\" })
        }
        return (knowledge, today)
    }
}
