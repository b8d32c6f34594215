import DistillClient
import DistillData
import Foundation

/// A harvest recipe: a procedure that asks the teacher through a `HarvestSession` and returns rows per output file.
/// Recipes never touch the network or the journal directly, so running one again over a finished journal sends
/// nothing and reproduces the same outputs — which is how outputs are written "from the journal".
public protocol HarvestRecipe: Sendable {
    /// The recipe's name (`answer`, `cot`, …).
    var name: String { get }
    /// Requests the recipe expects to make, for the progress total and the budget check.
    var plannedRequests: Int { get }
    /// Runs to completion (or to a stop) and returns each output file's lines, in a stable order.
    func run(_ session: HarvestSession) async throws -> [String: [Data]]
}

/// Prompt templates by name, loaded once so their text can be fingerprinted and reused.
public struct HarvestPrompts: Sendable {
    public let templates: [String: PromptTemplate]

    public init(_ templates: [PromptTemplate]) {
        self.templates = Dictionary(templates.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The placeholders each harvest template is filled with: a template must use exactly these, so a typo
    /// (`{instrution}`) or a dropped field is refused when the templates load, before any request is sent.
    public static let placeholders: [String: Set<String>] = [
        "answer": ["instruction", "input"],
        "cot-reason": ["question"],
        "cot-answer": ["question", "reasoning"],
        "counterfactual": ["question", "choices", "wrong_answer"],
        "explain": ["question", "answer"],
        "critique": ["question", "answer", "explanation"],
        "revise": ["question", "answer", "explanation", "critique"],
        "generate-data": ["task", "num_samples", "examples"],
        "icl": ["demonstrations", "instruction", "input"],
        "self-instruct": ["examples", "num_tasks"],
    ]

    /// Loads `names` from `library`, checking each uses exactly the placeholders the recipes fill.
    public static func load(_ names: [String], from library: PromptLibrary) throws -> HarvestPrompts {
        HarvestPrompts(try names.map { name in
            guard let expected = placeholders[name] else { return try library.template(name) }
            return try library.validate(name, expecting: expected)
        })
    }

    /// Name → text, for the manifest fingerprint.
    public var texts: [String: String] { templates.mapValues(\.text) }

    public func render(_ name: String, _ values: [String: String]) throws -> String {
        guard let template = templates[name] else {
            throw DataError(file: name + ".txt", "prompt template '\(name)' was not loaded")
        }
        let text = try template.render(values)
        return values.values.contains(where: \.isEmpty) ? Self.collapsingBlankLines(text) : text
    }

    /// A prompt with an empty value left where it stood: runs of blank lines become one, trailing ones go (an empty
    /// `input` must not send "instruction\n\n\n").
    static func collapsingBlankLines(_ text: String) -> String {
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let blank = line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
            if blank, let last = lines.last, last.isEmpty { continue }
            lines.append(blank ? "" : line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}

/// What every request of a recipe shares: the model, the system prompt and the sampling parameters.
public struct HarvestGeneration: Sendable {
    public var model: String
    /// Sent as a system message when non-empty.
    public var system: String
    public var temperature: Double?
    public var topP: Double?
    public var maxTokens: Int?
    /// Base seed; sample i of a prompt is sent with seed + i, so samples differ yet each one is reproducible.
    public var seed: Int?
    /// The endpoint enforces JSON schemas (`distill serve`): recipes whose replies are JSON (generate-data,
    /// self-instruct) send `response_format: json_schema`, so every reply parses.
    public var structured = false

    public init(model: String, system: String = "", temperature: Double? = nil, topP: Double? = nil,
                maxTokens: Int? = nil, seed: Int? = nil) {
        self.model = model
        self.system = system
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// A chat request for one user message (plus the system prompt), as sample `sample`.
    public func request(_ user: String, sample: Int = 0, temperature: Double? = nil, topLogprobs: Int? = nil,
                        responseFormat: ResponseFormat? = nil) -> ChatRequest {
        var messages: [ChatMessage] = []
        if !system.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { messages.append(.system(system)) }
        messages.append(.user(user))
        return ChatRequest(model: model, messages: messages, temperature: temperature ?? self.temperature, topP: topP,
                           maxTokens: maxTokens, seed: seed.map { $0 + sample },
                           logprobs: topLogprobs.map { _ in true }, topLogprobs: topLogprobs,
                           responseFormat: responseFormat)
    }
}

/// k-shot sampling uses DistillData's `SplitMix64`, so the same seed picks the same demonstrations on every machine
/// and every resume.
extension SplitMix64 {
    /// Seeded from a string (an item id, a round number) and a user seed, via SHA-256 so nearby ids give
    /// unrelated streams.
    public init(_ text: String, seed: Int = 0) {
        let hash = SHA256.hash(Data("\(seed)\u{1F}\(text)".utf8))
        self.init(seed: hash.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }
}
