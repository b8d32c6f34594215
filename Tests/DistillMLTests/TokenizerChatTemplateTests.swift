import Foundation
import Testing
@testable import DistillML

/// Chat renders against transformers' `apply_chat_template` (committed in chat.json), and the
/// format detection on the kinds of template text real models carry.
@Suite struct TokenizerChatTemplateTests {
    private func tokenizer(_ name: String) throws -> Tokenizer {
        switch name {
        case "smollm2": try TokenizerFixtures.smolLM2.get()
        case "qwen2": try TokenizerFixtures.qwen2.get()
        default: try TokenizerFixtures.llama3.get()
        }
    }

    @Test func rendersMatchApplyChatTemplate() throws {
        let chats = try TokenizerFixtures.chats.get()
        #expect(chats.count >= 24)
        try check(chats)
    }

    /// Templates a user has locally (`make_tokenizer_fixture.py --chat OUT.json T.jinja…`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TOKENIZER_CHAT_FILE"] != nil))
    func rendersMatchApplyChatTemplateForLocalTemplates() throws {
        let path = ProcessInfo.processInfo.environment["TOKENIZER_CHAT_FILE"] ?? ""
        let chats = try JSONDecoder().decode([TokenizerFixtures.ChatCase].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(!chats.isEmpty)
        try check(chats)
    }

    private func check(_ chats: [TokenizerFixtures.ChatCase]) throws {
        for c in chats {
            let tok = try tokenizer(c.tokenizer)
            if c.tokenizer == "smollm2" {  // the tokenizer's own template, straight to ids
                #expect(tok.encodeChat(c.messages.map { ($0.role, $0.content) }, addGenerationPrompt: c.add_generation_prompt) == c.ids)
            }
            let template = ChatTemplate(templateText: c.template, bosToken: tok.bosID.map(tok.tokenString),
                                        eosToken: tok.eosID.map(tok.tokenString))
            let messages = c.messages.map { (role: $0.role, content: $0.content) }
            let text = template.render(messages, addGenerationPrompt: c.add_generation_prompt)
            #expect(text == c.text, "\(c.tokenizer) \(template.format): \(text.debugDescription) vs \(c.text.debugDescription)")
            #expect(tok.encode(text, addSpecial: false) == c.ids)
        }
    }

    @Test func smolLM2TemplateComesFromTheFileWithItsDefaultSystemPrompt() throws {
        let tok = try TokenizerFixtures.smolLM2.get()
        #expect(tok.chatTemplate.format == .chatML)
        #expect(tok.chatTemplate.isRecognized)
        #expect(tok.chatTemplate.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(tok.stopTokenIDs == [2])  // <|im_end|>, also SmolLM2's EOS
        let text = tok.chatTemplate.render([(role: "user", content: "你好")], addGenerationPrompt: true)
        #expect(text.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"))
        #expect(text.hasSuffix("<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"))
    }

    @Test func detectsDefaultSystemPromptsWrittenWithEscapes() {
        // Qwen2-style: the prompt sits in a Jinja string with `\n` escapes, beside a spliced branch.
        let qwen2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        #expect(ChatTemplate(templateText: qwen2, bosToken: nil, eosToken: nil).defaultSystemPrompt == "You are a helpful assistant.")
        let spliced = "{{ '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
        #expect(ChatTemplate(templateText: spliced, bosToken: nil, eosToken: nil).defaultSystemPrompt == nil)
        let none = ChatTemplate(templateText: nil, bosToken: nil, eosToken: nil)
        // No template at all, or one of no known family, is not silently ChatML: callers refuse it.
        #expect(none.format == .chatML && none.defaultSystemPrompt == nil && !none.isRecognized)
        #expect(!ChatTemplate(templateText: "### Instruction:\n{{ m }}\n### Response:", bosToken: nil, eosToken: nil).isRecognized)
        #expect(ChatTemplate(templateText: "[INST] {{ m }} [/INST]", bosToken: nil, eosToken: nil).family == "Mistral")
    }

    @Test func llama3StopsOnEndOfTurn() throws {
        let tok = try TokenizerFixtures.llama3.get()
        let template = ChatTemplate(templateText: "<|start_header_id|>", bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>")
        #expect(template.format == .llama3)
        #expect(template.stopStrings == ["<|eot_id|>", "<|end_of_text|>"])
        let ids = template.stopTokenIDs(in: tok)
        #expect(ids.contains(try #require(tok.id(of: "<|eot_id|>"))))
        #expect(template.llamaDates == nil)
    }

    @Test func llama32StyleTemplateUsesToday() throws {
        let text = "Cutting Knowledge Date: December 2023\\n' }}{% set date_string = strftime_now(\"%d %b %Y\") %}<|start_header_id|>"
        let dates = try #require(ChatTemplate(templateText: text, bosToken: nil, eosToken: nil).llamaDates)
        #expect(dates.knowledge == "December 2023")
        #expect(dates.today.count == 11)  // "23 Nov 2026"
    }
}
