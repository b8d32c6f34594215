import Foundation

/// Counts prompt tokens before anything is sent, for `--dry-run`, `--budget` and rate-limit reservations: the one
/// token estimate of the client and of harvest.
///
/// The CLI passes a real tokenizer when one is available (DistillClient must not import DistillML, so it arrives as
/// a closure); otherwise a heuristic calibrated on BPE vocabularies: CJK ≈ 1 token per character, emoji ≈ 2, other
/// text ≈ 4 characters per token. Chat templates add a few tokens per message (`<|im_start|>role\n … <|im_end|>\n`)
/// and a few to open the assistant turn; those are counted separately so a text-only tokenizer still comes close.
public struct TokenEstimator: Sendable {
    /// What counts the tokens (shown in the dry-run report).
    public var name: String
    public var countText: @Sendable (String) -> Int
    /// Template tokens around each message (role included) and to open the reply.
    public var perMessage: Int
    public var perRequest: Int
    /// Counts a whole conversation exactly (a tokenizer applying the model's chat template); overrides the rest.
    public var countPrompt: (@Sendable ([ChatMessage]) -> Int)?

    public init(name: String, perMessage: Int = 5, perRequest: Int = 3, countText: @escaping @Sendable (String) -> Int,
                countPrompt: (@Sendable ([ChatMessage]) -> Int)? = nil) {
        self.name = name
        self.countText = countText
        self.perMessage = perMessage
        self.perRequest = perRequest
        self.countPrompt = countPrompt
    }

    /// The heuristic counter (no tokenizer).
    public static let heuristic = TokenEstimator(name: "heuristic (CJK 1/char, Latin 4 chars/token)",
                                                 countText: heuristicCount)

    /// Estimated prompt tokens of a chat request.
    public func promptTokens(_ messages: [ChatMessage]) -> Int {
        if let countPrompt { return countPrompt(messages) }
        return messages.reduce(perRequest) { $0 + perMessage + countText($1.content) }
    }

    /// Prompt estimate plus the most the reply may use: what the client reserves against `--tpm` before sending
    /// (refunded with the server's real usage, so the estimate only has to be in the right range).
    public func requestTokens(_ request: ChatRequest) -> Int {
        promptTokens(request.messages) + (request.maxTokens ?? 0) * max(1, request.n ?? 1)
    }

    /// CJK ideographs, kana and Hangul ≈ 1 token each; emoji and other astral symbols ≈ 2; everything else is
    /// counted in runs at ≈ 4 characters per token (rounded up per run, as BPE splits at script changes).
    public static func heuristicCount(_ text: String) -> Int {
        var tokens = 0
        var run = 0
        func endRun() {
            tokens += (run + 3) / 4
            run = 0
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if isCJK(v) {
                endRun()
                tokens += 1
            } else if v >= 0x1F000 {
                endRun()
                tokens += 2
            } else {
                run += 1
            }
        }
        endRun()
        return tokens
    }

    package static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x3040...0x30FF).contains(v)
            || (0xAC00...0xD7AF).contains(v) || (0x3000...0x303F).contains(v) || (0xFF00...0xFFEF).contains(v)
            || (0x20000...0x2FFFF).contains(v)
    }

    /// Text of about `tokens` tokens, used as the stand-in reply in a dry run so later stages' prompts have the
    /// right length.
    public func filler(tokens: Int) -> String {
        String(repeating: " step", count: max(0, tokens))
    }
}

/// Prices per million tokens, for cost so far, projected cost and `--budget`.
public struct TeacherPrice: Sendable, Equatable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    public static let free = TeacherPrice(inputPerMillion: 0, outputPerMillion: 0)

    public func cost(input: Int, output: Int) -> Double {
        (Double(input) * inputPerMillion + Double(output) * outputPerMillion) / 1_000_000
    }

    /// When the table's prices were last checked against the providers' pages.
    public static let tableDate = "2026-12"

    /// List prices (USD per 1M tokens, standard tier, cache-miss input) of common teachers, as the providers published
    /// them (checked 2026-12); every preset's default model is here. Providers change prices (DeepSeek bills
    /// peak/off-peak): `--price-in` / `--price-out` override this table, and with `--budget` a model missing from it
    /// is refused unless priced (a local server costs nothing: `--price-in 0 --price-out 0`).
    public static let table: [String: TeacherPrice] = [
        "gpt-4o": .init(inputPerMillion: 2.50, outputPerMillion: 10.00),
        "gpt-4o-mini": .init(inputPerMillion: 0.15, outputPerMillion: 0.60),
        "gpt-4.1": .init(inputPerMillion: 2.00, outputPerMillion: 8.00),
        "gpt-4.1-mini": .init(inputPerMillion: 0.40, outputPerMillion: 1.60),
        "gpt-4.1-nano": .init(inputPerMillion: 0.10, outputPerMillion: 0.40),
        // DeepSeek (api-docs.deepseek.com pricing): deepseek-chat / deepseek-reasoner are deprecated aliases of
        // deepseek-v4-flash's non-thinking / thinking modes, billed as it.
        "deepseek-v4-flash": .init(inputPerMillion: 0.14, outputPerMillion: 0.28),
        "deepseek-flash": .init(inputPerMillion: 0.14, outputPerMillion: 0.28),
        "deepseek-v4-pro": .init(inputPerMillion: 0.435, outputPerMillion: 0.87),
        "deepseek-chat": .init(inputPerMillion: 0.14, outputPerMillion: 0.28),
        "deepseek-reasoner": .init(inputPerMillion: 0.14, outputPerMillion: 0.28),
        // Alibaba Model Studio (DashScope), international list price; mainland prices in CNY are lower.
        "qwen-plus": .init(inputPerMillion: 0.40, outputPerMillion: 1.20),
        "qwen-turbo": .init(inputPerMillion: 0.05, outputPerMillion: 0.20),
        "qwen-max": .init(inputPerMillion: 1.60, outputPerMillion: 6.40),
        // Zhipu BigModel / Z.ai: the flash models are free.
        "glm-4-flash": .free,
        "glm-4.5-flash": .free,
    ]

    /// The table's price for `model` (exact name, or the longest table name that prefixes it).
    public static func lookup(_ model: String) -> TeacherPrice? {
        if let p = table[model] { return p }
        return table.filter { model.hasPrefix($0.key + "-") }.max { $0.key.count < $1.key.count }?.value
    }
}
