import Foundation

/// Guesses a model's family from its API name, to warn when the judge shares the teacher's family (preference
/// leakage, arXiv 2502.01534: a judge favours students trained on its own family's outputs).
public enum ModelFamily {
    /// Name fragments, most specific first; a model matches the first fragment its lower-cased name contains.
    static let families: [(fragment: String, family: String)] = [
        ("qwen", "Qwen"), ("qwq", "Qwen"), ("llama", "Llama"), ("smollm", "SmolLM"), ("glm", "GLM"),
        ("deepseek", "DeepSeek"), ("claude", "Claude"), ("gemini", "Gemini"), ("gemma", "Gemma"),
        ("mistral", "Mistral"), ("mixtral", "Mistral"), ("phi", "Phi"), ("gpt", "GPT"), ("o1", "GPT"),
        ("o3", "GPT"), ("o4", "GPT"), ("yi-", "Yi"), ("baichuan", "Baichuan"), ("internlm", "InternLM"),
    ]

    public static func family(of model: String) -> String? {
        let name = model.lowercased()
        return families.first { name.contains($0.fragment) }?.family
    }

    /// "same model", "same family (Qwen)", or nil when unrelated or unknown.
    public static func relation(judge: String, teacher: String) -> String? {
        let strip: (String) -> String = { $0.lowercased().split(separator: "/").last.map(String.init) ?? $0.lowercased() }
        if strip(judge) == strip(teacher) { return "same model" }
        if let a = family(of: judge), a == family(of: teacher) { return "same family (\(a))" }
        return nil
    }
}
