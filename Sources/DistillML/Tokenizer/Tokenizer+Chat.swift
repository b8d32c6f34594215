extension Tokenizer {
    /// The prompt ids of a conversation in the model's chat format: HF's
    /// `apply_chat_template(messages, tokenize=True)`. The rendered text already holds BOS where the
    /// format wants it, so no special tokens are added around it.
    public func encodeChat(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool = true) -> [Int] {
        encode(chatTemplate.render(messages, addGenerationPrompt: addGenerationPrompt), addSpecial: false)
    }

    /// The ids that end an assistant turn in this model's chat format (`<|im_end|>`, `<|eot_id|>`, EOS).
    public var stopTokenIDs: [Int] { chatTemplate.stopTokenIDs(in: self) }
}
