import Foundation
import Testing
import DistillTestSupport
@testable import DistillML

/// The common template families against transformers' `apply_chat_template` on each model's own template string
/// (Fixtures/chat_templates.json, from scripts/fixtures/make_chat_template_fixture.py).
struct ChatTemplateFamilyTests {
    struct Case: Decodable {
        struct Message: Decodable { var role: String; var content: String }
        var family: String
        var model: String
        var bos_token: String?
        var eos_token: String?
        var template: String
        var messages: [Message]
        var add_generation_prompt: Bool
        var text: String
    }

    static func cases() throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/chat_templates.json")
        return try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
    }

    @Test func everyFamilyRendersAsTransformersDoes() throws {
        let cases = try Self.cases()
        #expect(Set(cases.map(\.family)) == ["llama3", "qwen2", "smollm", "mistral", "gemma", "phi3"])
        #expect(cases.count >= 50)
        for c in cases {
            let t = ChatTemplate(templateText: c.template, bosToken: c.bos_token, eosToken: c.eos_token)
            #expect(t.isRecognized, "\(c.model)")
            #expect(t.format.rawValue == (["qwen2", "smollm"].contains(c.family) ? "chatml" : c.family), "\(c.model): \(t.format)")
            let text = t.render(c.messages.map { ($0.role, $0.content) }, addGenerationPrompt: c.add_generation_prompt)
            #expect(text == c.text, "\(c.model) gen=\(c.add_generation_prompt): \(text.debugDescription) vs \(c.text.debugDescription)")
        }
    }

    @Test func familiesAreNamed() throws {
        var names: [String: String] = [:]
        for c in try Self.cases() { names[c.model] = ChatTemplate(templateText: c.template, bosToken: c.bos_token, eosToken: c.eos_token).family }
        #expect(names["HuggingFaceTB/SmolLM2-135M-Instruct"] == "SmolLM (ChatML)")
        #expect(names["Qwen/Qwen2-7B-Instruct"] == "Qwen2 (ChatML)")
        #expect(names["meta-llama/Meta-Llama-3-8B-Instruct"] == "Llama 3")
        #expect(names["google/gemma-7b-it"] == "Gemma" && names["microsoft/Phi-3-mini-4k-instruct"] == "Phi-3")
        #expect(names["mistralai/Mixtral-8x7B-Instruct-v0.1"] == "Mistral")
    }

    @Test func namedFamiliesMatchTheirTemplates() throws {
        // `--chat-template NAME` renders as the family's own template does (for the default variant of each).
        let byModel = ["chatml": nil, "qwen2": "Qwen/Qwen2-7B-Instruct", "smollm": "HuggingFaceTB/SmolLM2-135M-Instruct",
                       "llama3": "meta-llama/Meta-Llama-3-8B-Instruct", "mistral": "mistralai/Mixtral-8x7B-Instruct-v0.1",
                       "gemma": "google/gemma-7b-it", "phi3": "microsoft/Phi-3-mini-4k-instruct"]
        #expect(Set(byModel.keys) == Set(ChatTemplate.names))
        for c in try Self.cases() {
            guard let name = byModel.first(where: { $0.value == c.model })?.key,
                  let t = ChatTemplate.named(name, bosToken: c.bos_token, eosToken: c.eos_token) else { continue }
            #expect(t.render(c.messages.map { ($0.role, $0.content) }, addGenerationPrompt: c.add_generation_prompt) == c.text, "\(name)")
        }
        #expect(ChatTemplate.named("vicuna", bosToken: nil, eosToken: nil) == nil)
    }

    @Test func stopStringsEndEachFamilysTurn() {
        let gemma = ChatTemplate.named("gemma", bosToken: "<bos>", eosToken: "<eos>")
        #expect(gemma?.stopStrings == ["<end_of_turn>", "<eos>"])
        #expect(ChatTemplate.named("phi3", bosToken: "<s>", eosToken: "<|endoftext|>")?.stopStrings == ["<|end|>", "<|endoftext|>"])
        #expect(ChatTemplate.named("mistral", bosToken: "<s>", eosToken: "</s>")?.stopStrings == ["</s>"])
    }

    @Test func iQuantsAreNamed() {
        #expect(GGMLType(rawValue: 16).description == "IQ2_XXS" && GGMLType(rawValue: 23).description == "IQ4_XS")
        #expect(GGMLType(rawValue: 16).isIQuant && !GGMLType.q4_K.isIQuant)
    }
}

/// An HF `mistral` config.json is the Llama architecture (Mistral-7B-Instruct's own keys).
struct MistralConfigTests {
    @Test func mistralConfigLoadsAsLlamaWithItsWindowAsContext() throws {
        let dir = ModelFixtures.temporaryPath("mistral-cfg")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let json = #"{"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 64, "intermediate_size": 96, "#
            + #""num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 100, "#
            + #""max_position_embeddings": 32768, "sliding_window": 4096, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "#
            + #""tie_word_embeddings": false, "head_dim": null}"#
        try json.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let c = try LlamaConfig(hfConfigPath: dir + "/config.json")
        #expect(c.architecture == "llama" && c.kvHeads == 2 && c.headDim == 16 && !c.tiedEmbeddings && !c.attentionBias)
        #expect(c.contextLength == 4096)
        let v2 = json.replacingOccurrences(of: #""sliding_window": 4096"#, with: #""sliding_window": null"#)
        try v2.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        #expect(try LlamaConfig(hfConfigPath: dir + "/config.json").contextLength == 32768)
    }
}

/// A token limit that cuts a character drops its bytes: no U+FFFD at the end of an answer.
struct PartialCharacterTests {
    @Test func everyCutOfAChineseAnswerDecodesToAPrefixWithoutReplacementCharacters() throws {
        let tok = try TokenizerFixtures.smolLM2.get()
        let text = "答案是：二〇二二年五月二十日 🙂 好的"
        let ids = tok.encode(text, addSpecial: false)
        var cutMidCharacter = 0
        for k in 0...ids.count {
            let complete = tok.decodeComplete(Array(ids.prefix(k)))
            #expect(!complete.contains("\u{FFFD}") && text.hasPrefix(complete), "cut at \(k): \(complete.debugDescription)")
            if tok.decode(Array(ids.prefix(k))).contains("\u{FFFD}") { cutMidCharacter += 1 }
        }
        #expect(cutMidCharacter > 0, "the test text should have tokens that split a character")
    }

    @Test func generationsCutByTheTokenLimitEndOnACharacter() throws {
        let dir = ModelFixtures.temporaryPath("tiny-cut")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let lm = try LanguageModel(path: dir + "/tiny.gguf")
        var results: [GenerationResult] = []
        let requests = (0..<24).map { i in
            GenerationRequest(id: i, prompt: lm.chatPrompt([(role: "user", content: "写一句话 \(i)")]), maxTokens: 1 + i % 7,
                              sampling: SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: UInt64(i)))
        }
        try lm.generator(slots: 4, capacity: 64).generate(requests) { results.append($0) }
        #expect(results.count == 24)
        for r in results { #expect(r.text == lm.tokenizer.decodeComplete(r.tokens, skipSpecial: true)) }
    }
}
