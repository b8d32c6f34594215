import Foundation

extension ChatTemplate {
    /// The prompt text for `messages`; with `addGenerationPrompt`, ends with the assistant header (Mistral's format has
    /// none: its prompt ends with ` [/INST]` either way). Encode it with `addSpecial: false`: the text already carries
    /// BOS where the format wants it.
    public func render(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool) -> String {
        switch format {
        case .chatML: renderChatML(messages, addGenerationPrompt)
        case .llama3: renderLlama3(messages, addGenerationPrompt)
        case .mistral: renderMistral(messages)
        case .gemma: renderGemma(messages, addGenerationPrompt)
        case .phi3: renderPhi3(messages, addGenerationPrompt)
        }
    }

    /// Jinja's `trim` is Python's str.strip().
    private static func trim(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// A leading system message, and the rest.
    private static func splitSystem(_ messages: [(role: String, content: String)]) -> (String?, ArraySlice<(role: String, content: String)>) {
        guard let first = messages.first, first.role == "system" else { return (nil, messages[...]) }
        return (first.content, messages.dropFirst())
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
        func turn(_ role: String, _ content: String) -> String {
            "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + content + "<|eot_id|>"
        }
        var out = ""
        var rest = messages[...]
        if let dates = llamaDates {
            // 3.1+: a system block always comes first; the user's system message goes at its end.
            out += bosToken ?? ""
            var system = ""
            if let first = rest.first, first.role == "system" { system = Self.trim(first.content); rest = rest.dropFirst() }
            out += turn("system", "Cutting Knowledge Date: \(dates.knowledge)\nToday Date: \(dates.today)\n\n" + system)
        } else if !rest.isEmpty {
            out += bosToken ?? ""
        }
        for m in rest { out += turn(m.role, Self.trim(m.content)) }
        if generation { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        return out
    }

    /// Mixtral / Mistral v0.2: `<s>[INST] u [/INST]a</s>`; v0.1's newer template: `<s> [INST] u [/INST] a</s>`.
    private func renderMistral(_ messages: [(role: String, content: String)]) -> String {
        let (system, rest) = Self.splitSystem(messages)
        var out = bosToken ?? ""
        for (k, m) in rest.enumerated() {
            if m.role == "user" {
                let content = k == 0 && system != nil ? (system ?? "") + "\n\n" + m.content : m.content
                out += (spaced ? " [INST] " : "[INST] ") + content + " [/INST]"
            } else if m.role == "assistant" {
                out += (spaced ? " " : "") + m.content + (eosToken ?? "")
            }
        }
        return out
    }

    /// Gemma: the assistant's role is `model`; contents trimmed.
    private func renderGemma(_ messages: [(role: String, content: String)], _ generation: Bool) -> String {
        let (system, rest) = Self.splitSystem(messages)
        var out = bosToken ?? ""
        for (k, m) in rest.enumerated() {
            let content = k == 0 && system != nil ? Self.trim(system ?? "") + "\n\n" + m.content : m.content
            out += "<start_of_turn>" + (m.role == "assistant" ? "model" : m.role) + "\n" + Self.trim(content) + "<end_of_turn>\n"
        }
        if generation { out += "<start_of_turn>model\n" }
        return out
    }

    /// Phi-3: `<|role|>\n…<|end|>\n` for system, user and assistant; EOS closes a conversation without a generation prompt.
    private func renderPhi3(_ messages: [(role: String, content: String)], _ generation: Bool) -> String {
        var out = ""
        for m in messages where ["system", "user", "assistant"].contains(m.role) {
            if m.role == "system" && skipsEmptySystem && m.content.isEmpty { continue }
            out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n"
        }
        out += generation ? "<|assistant|>\n" : (eosToken ?? "")
        return out
    }
}
