/// Where a teacher lives: a base URL, a model name, and the *name* of the environment variable holding its key.
///
/// The key itself is never stored here, so an `Endpoint` can be printed, logged or written to a manifest safely.
public struct Endpoint: Sendable, Equatable, Codable {
    /// Up to and including the API version, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    public var model: String
    /// The environment variable with the API key; nil for servers that need none (local vLLM, llama.cpp, Ollama).
    public var keyEnv: String?

    public init(baseURL: String, model: String, keyEnv: String? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.keyEnv = keyEnv
    }

    /// `baseURL` + `/chat/completions`, tolerating a trailing slash.
    public var chatCompletionsURL: String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }

    // Presets: the OpenAI-compatible base URL each provider documents, and its customary key variable.

    public static func openAI(model: String = "gpt-4o-mini") -> Endpoint {
        Endpoint(baseURL: "https://api.openai.com/v1", model: model, keyEnv: "OPENAI_API_KEY")
    }

    /// DeepSeek. `deepseek-chat` / `deepseek-reasoner` are documented as deprecated (served by deepseek-v4-flash
    /// until 2026-07-24), so the default is the current name.
    public static func deepSeek(model: String = "deepseek-v4-flash") -> Endpoint {
        Endpoint(baseURL: "https://api.deepseek.com/v1", model: model, keyEnv: "DEEPSEEK_API_KEY")
    }

    /// Zhipu GLM (BigModel open platform, mainland China); the seed documents judge with `glm-4-flash`.
    public static func zhipuGLM(model: String = "glm-4-flash") -> Endpoint {
        Endpoint(baseURL: "https://open.bigmodel.cn/api/paas/v4", model: model, keyEnv: "ZHIPUAI_API_KEY")
    }

    /// Z.ai: Zhipu's GLM models for accounts outside mainland China (a key from z.ai, not from bigmodel.cn).
    public static func zAI(model: String = "glm-4.5-flash") -> Endpoint {
        Endpoint(baseURL: "https://api.z.ai/api/paas/v4", model: model, keyEnv: "ZAI_API_KEY")
    }

    /// Alibaba DashScope (Qwen) in OpenAI-compatible mode, Beijing region.
    public static func dashScope(model: String = "qwen-plus") -> Endpoint {
        Endpoint(baseURL: "https://dashscope.aliyuncs.com/compatible-mode/v1", model: model, keyEnv: "DASHSCOPE_API_KEY")
    }

    /// Alibaba Model Studio, international (Singapore) region: keys are per region, so an international key needs this.
    public static func dashScopeInternational(model: String = "qwen-plus") -> Endpoint {
        Endpoint(baseURL: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", model: model, keyEnv: "DASHSCOPE_API_KEY")
    }

    /// A local vLLM server (`vllm serve MODEL`), port 8000 by default.
    public static func vLLM(model: String, host: String = "127.0.0.1", port: Int = 8000) -> Endpoint {
        Endpoint(baseURL: "http://\(host):\(port)/v1", model: model, keyEnv: nil)
    }

    /// A local llama.cpp server (`llama-server -m M.gguf`), port 8080 by default.
    public static func llamaCpp(model: String = "default", host: String = "127.0.0.1", port: Int = 8080) -> Endpoint {
        Endpoint(baseURL: "http://\(host):\(port)/v1", model: model, keyEnv: nil)
    }

    /// A local Ollama server, port 11434 by default.
    public static func ollama(model: String, host: String = "127.0.0.1", port: Int = 11434) -> Endpoint {
        Endpoint(baseURL: "http://\(host):\(port)/v1", model: model, keyEnv: nil)
    }

    /// Preset names accepted on the command line (`--teacher openai`), each with its factory.
    public static func preset(named name: String, model: String?) -> Endpoint? {
        switch name.lowercased() {
        case "openai": model.map { openAI(model: $0) } ?? openAI()
        case "deepseek": model.map { deepSeek(model: $0) } ?? deepSeek()
        case "zhipu", "glm", "zhipu-glm": model.map { zhipuGLM(model: $0) } ?? zhipuGLM()
        case "zai", "z.ai": model.map { zAI(model: $0) } ?? zAI()
        case "dashscope", "qwen": model.map { dashScope(model: $0) } ?? dashScope()
        case "dashscope-intl", "qwen-intl": model.map { dashScopeInternational(model: $0) } ?? dashScopeInternational()
        case "vllm": vLLM(model: model ?? "default")
        case "llamacpp", "llama.cpp", "llama-cpp": llamaCpp(model: model ?? "default")
        case "ollama": ollama(model: model ?? "llama3")
        default: nil
        }
    }

    public static let presetNames = ["openai", "deepseek", "zhipu", "zai", "dashscope", "dashscope-intl", "vllm", "llamacpp",
                                     "ollama"]
}
