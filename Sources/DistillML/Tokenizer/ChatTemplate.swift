import Foundation

/// A chat format chosen from a model's Jinja `chat_template`, rendered without a Jinja engine.
///
/// The families of the common instruct models, each checked against transformers' `apply_chat_template` on the
/// models' own template strings (scripts/fixtures/make_chat_template_fixture.py):
/// - ChatML (SmolLM2, Qwen2/2.5): `<|im_start|>role\n…<|im_end|>\n`, with the default system prompt the template
///   inserts when the conversation has none (SmolLM2's "You are a helpful AI assistant named SmolLM…", Qwen2's
///   "You are a helpful assistant.").
/// - Llama 3: `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` after BOS, contents trimmed, and for 3.1+
///   the system block with "Cutting Knowledge Date"/"Today Date".
/// - Mistral / Mixtral: `<s>[INST] user [/INST]answer</s>`; Mistral-7B-Instruct-v0.1's newer template spaces them
///   (`<s> [INST] user [/INST] answer</s>`) and puts a system message before the first user message.
/// - Gemma: `<bos><start_of_turn>user\n…<end_of_turn>\n`, the assistant is `model`, contents trimmed.
/// - Phi-3 / 3.5: `<|role|>\n…<|end|>\n`, EOS after the last turn when no generation prompt is asked for.
///
/// Gemma and Mixtral templates refuse a system message; rendered here, it goes before the first user message
/// followed by a blank line (as Mistral v0.1's and Gemma 3's templates do). Tools and tool calls are not rendered.
/// A template of no known family is `isRecognized == false`: callers refuse it unless the user names a family.
public struct ChatTemplate: Sendable, Equatable {
    /// The supported prompt formats.
    public enum Format: String, Sendable, Equatable, CaseIterable {
        case chatML = "chatml"
        case llama3
        case mistral
        case gemma
        case phi3
    }

    public let format: Format
    /// The family's name for messages: "SmolLM (ChatML)", "Qwen2 (ChatML)", "Llama 3.1+", "Mistral", "Gemma", "Phi-3", …
    public let family: String
    /// ChatML: the system message inserted when the first message is not a system message.
    public let defaultSystemPrompt: String?
    /// False when the template text matched no known family (ChatML is then assumed, but callers should refuse).
    public let isRecognized: Bool
    public let bosToken: String?
    public let eosToken: String?
    /// Llama 3.1+: the knowledge cutoff and the "Today Date" the template writes into the system block.
    public let llamaDates: (knowledge: String, today: String)?
    /// Mistral-7B-Instruct-v0.1's spaced layout (` [INST] ` and ` answer`), and Phi-3.5's skipping of an empty system message.
    let spaced: Bool
    let skipsEmptySystem: Bool

    public static func == (a: ChatTemplate, b: ChatTemplate) -> Bool {
        a.format == b.format && a.family == b.family && a.defaultSystemPrompt == b.defaultSystemPrompt
            && a.isRecognized == b.isRecognized && a.bosToken == b.bosToken && a.eosToken == b.eosToken
            && a.llamaDates?.knowledge == b.llamaDates?.knowledge && a.llamaDates?.today == b.llamaDates?.today
            && a.spaced == b.spaced && a.skipsEmptySystem == b.skipsEmptySystem
    }

    init(format: Format, family: String, defaultSystemPrompt: String? = nil, isRecognized: Bool = true, bosToken: String?,
         eosToken: String?, llamaDates: (knowledge: String, today: String)? = nil, spaced: Bool = false, skipsEmptySystem: Bool = false) {
        self.format = format
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        self.isRecognized = isRecognized
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.llamaDates = llamaDates
        self.spaced = spaced
        self.skipsEmptySystem = skipsEmptySystem
    }

    /// Chooses the format from the template text. No text at all (a base model) is not recognized either.
    public init(templateText: String?, bosToken: String?, eosToken: String?) {
        let text = templateText ?? ""
        if text.contains("<|start_header_id|>") {
            let dates = Self.llamaDates(in: text)
            self.init(format: .llama3, family: dates == nil ? "Llama 3" : "Llama 3.1+", bosToken: bosToken, eosToken: eosToken, llamaDates: dates)
        } else if text.contains("<start_of_turn>") {
            self.init(format: .gemma, family: "Gemma", bosToken: bosToken, eosToken: eosToken)
        } else if text.contains("<|user|>") && text.contains("<|assistant|>") && text.contains("<|end|>") {
            self.init(format: .phi3, family: "Phi-3", bosToken: bosToken, eosToken: eosToken,
                      skipsEmptySystem: text.contains("'system' and message['content']"))
        } else if text.contains("[INST]") && !text.contains("<<SYS>>") {
            self.init(format: .mistral, family: "Mistral", bosToken: bosToken, eosToken: eosToken, spaced: text.contains("' [INST] '"))
        } else if text.contains("<|im_start|>") {
            let system = Self.chatMLDefaultSystem(in: text)
            let family = text.contains("SmolLM") ? "SmolLM (ChatML)" : text.contains("Qwen") || system == "You are a helpful assistant."
                ? "Qwen2 (ChatML)" : "ChatML"
            self.init(format: .chatML, family: family, defaultSystemPrompt: system, bosToken: bosToken, eosToken: eosToken)
        } else {
            self.init(format: .chatML, family: templateText == nil ? "none (the model file has no chat template)" : "unknown",
                      isRecognized: false, bosToken: bosToken, eosToken: eosToken)
        }
    }

    /// The names `--chat-template` accepts.
    public static let names = ["chatml", "qwen2", "smollm", "llama3", "mistral", "gemma", "phi3"]

    /// A family by name (see `names`), with this tokenizer's BOS and EOS; nil for an unknown name.
    public static func named(_ name: String, bosToken: String?, eosToken: String?) -> ChatTemplate? {
        switch name.lowercased() {
        case "chatml": ChatTemplate(format: .chatML, family: "ChatML", bosToken: bosToken, eosToken: eosToken)
        case "qwen2", "qwen": ChatTemplate(format: .chatML, family: "Qwen2 (ChatML)", defaultSystemPrompt: "You are a helpful assistant.",
                                           bosToken: bosToken, eosToken: eosToken)
        case "smollm", "smollm2": ChatTemplate(format: .chatML, family: "SmolLM (ChatML)",
                                               defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
                                               bosToken: bosToken, eosToken: eosToken)
        case "llama3", "llama-3": ChatTemplate(format: .llama3, family: "Llama 3", bosToken: bosToken, eosToken: eosToken)
        case "mistral": ChatTemplate(format: .mistral, family: "Mistral", bosToken: bosToken, eosToken: eosToken)
        case "gemma": ChatTemplate(format: .gemma, family: "Gemma", bosToken: bosToken, eosToken: eosToken)
        case "phi3", "phi-3": ChatTemplate(format: .phi3, family: "Phi-3", bosToken: bosToken, eosToken: eosToken)
        default: nil
        }
    }

    /// Text that ends the assistant's turn; generation stops on any of these.
    public var stopStrings: [String] {
        var stops: [String]
        switch format {
        case .chatML: stops = ["<|im_end|>"]
        case .llama3: stops = ["<|eot_id|>"]
        case .mistral: stops = []
        case .gemma: stops = ["<end_of_turn>"]
        case .phi3: stops = ["<|end|>"]
        }
        if let eosToken, !stops.contains(eosToken) { stops.append(eosToken) }
        return stops
    }

    /// The ids of `stopStrings` that are single tokens in `tokenizer`, plus its EOS id.
    public func stopTokenIDs(in tokenizer: Tokenizer) -> [Int] {
        var ids = stopStrings.compactMap { tokenizer.id(of: $0) }
        if let eos = tokenizer.eosID, !ids.contains(eos) { ids.append(eos) }
        return ids
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
