import DistillData
import DistillHTTP
import DistillClient
import DistillHarvest
import Foundation

/// `distill ask`: one chat request from the shell, to check that an endpoint, model and key work.
struct AskCommand: DistillCommand {
    static let system: Option<String?> = .value("system", "S", help: "system message")
    static let temperature: Option<Double?> = .value("temperature", "T", help: "sampling temperature (server default if unset)")
    static let maxTokens: Option<Int?> = .value("max-tokens", "N", help: "most tokens to generate (server default if unset)")
    static let timeout: Option<Double> = .value("timeout", "SECONDS", default: 120, help: "give up on one attempt after this long")
    static let attempts: Option<Int> = .value("attempts", "N", default: 3, help: "attempts in all, for retryable failures")
    static let json: Option<Bool> = .flag("json", help: "print the whole response as one JSON object")
    static let insecure: Option<Bool> = .flag("insecure", help: "skip TLS certificate verification (testing only)")
    static let caBundle: Option<String?> = .value("ca-bundle", "FILE", help: "PEM file of CA certificates to verify TLS against")

    static let spec = CommandSpec(
        name: "ask",
        abstract: "send one chat request to a teacher endpoint (checks the URL, model and key)",
        usage: "--teacher URL|PRESET --model M [--key-env NAME] [options] \"prompt\"   (prompt '-' reads stdin)",
        discussion: """
        --teacher takes a base URL (http://127.0.0.1:8080/v1) or a preset: \(Endpoint.presetNames.joined(separator: ", ")).
        A preset supplies its base URL, a default model and its key variable (OPENAI_API_KEY, DEEPSEEK_API_KEY,
        ZHIPUAI_API_KEY, DASHSCOPE_API_KEY). The key is read from the variable named by --key-env and is never printed.
        The answer goes to stdout; model, finish reason, token usage and latency to stderr.
        """,
        options: [
            TeacherEndpointArguments.teacher,
            TeacherEndpointArguments.model,
            TeacherEndpointArguments.keyEnv,
            system,
            temperature,
            maxTokens,
            timeout,
            attempts,
            json,
            insecure,
            caBundle,
        ],
        examples: """
              distill ask --teacher deepseek "用一句话解释知识蒸馏。"
              distill ask --teacher http://127.0.0.1:8080/v1 --model local "Hello"   # llama.cpp, vLLM, Ollama, distill serve
              distill ask --teacher openai --model gpt-4o-mini --max-tokens 64 --json "Name three prime numbers."
            """)

    let endpoint: Endpoint
    let request: ChatRequest
    let json: Bool
    let timeout: Duration
    let attempts: Int
    let insecure: Bool
    let caBundle: String?

    init(_ args: ParsedArguments) throws {
        let endpoint = try TeacherEndpointArguments.endpoint(args)
        self.endpoint = endpoint
        let positionals = try args.positionals(max: 1)
        guard var prompt = positionals.first else { throw UsageError("give the prompt as the last argument ('-' reads stdin)") }
        if prompt == "-" {
            prompt = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        var messages: [ChatMessage] = []
        if let system = args[Self.system] { messages.append(.system(system)) }
        messages.append(.user(prompt))
        request = ChatRequest(model: endpoint.model, messages: messages, temperature: args[Self.temperature],
                              maxTokens: args[Self.maxTokens])
        json = args[Self.json]
        let seconds = args[Self.timeout]
        guard seconds > 0 else { throw UsageError("--timeout must be positive") }
        timeout = .milliseconds(Int64(seconds * 1000))
        attempts = args[Self.attempts]
        guard attempts >= 1 else { throw UsageError("--attempts must be at least 1") }
        insecure = args[Self.insecure]
        caBundle = args[Self.caBundle]
    }

    func run() async throws {
        let http = try HTTPClient(configuration: .init(
            timeouts: HTTPTimeouts(connect: .seconds(10), total: timeout, idle: timeout),
            verifyTLS: !insecure, caBundlePath: caBundle))
        let openAI = OpenAIClient(endpoint: endpoint, http: http)
        let client = TeacherClient(
            openAI: openAI, options: .init(retry: RetryPolicy(maxAttempts: attempts, cap: .seconds(20)), maxConcurrent: 1),
            clock: ContinuousClock(), onEvent: { event in
                if case .retrying(let attempt, let delay, let reason) = event {
                    DistillCLI.printError("attempt \(attempt) failed (\(reason)); retrying in \(GoDuration.format(delay))")
                }
            })
        let exchange = try await client.exchange(request)
        let response = exchange.response
        if json {
            print(String(decoding: try Self.encode(response), as: UTF8.self))
        } else {
            for choice in response.choices { print(choice.message.content) }
        }
        let usage = response.usage.map { "\($0.promptTokens) in / \($0.completionTokens) out tokens" } ?? "no usage reported"
        let finish = response.choices.first?.finishReason ?? "?"
        let ms = Int((exchange.latency / .milliseconds(1)).rounded())
        DistillCLI.printError("model \(response.model.isEmpty ? endpoint.model : response.model), finish \(finish), \(usage), \(ms) ms")
    }

    /// The response as the OpenAI JSON shape (sorted keys), for `--json`.
    static func encode(_ r: ChatResponse) throws -> Data {
        func number(_ d: Double) throws -> JSONValue {
            guard d.isFinite else { throw AskEncodingError(description: "a logprob of \(d) cannot be written as JSON") }
            return .number("\(d)")
        }
        func bytes(_ b: [UInt8]?) -> JSONValue { .array((b ?? []).map { .number("\($0)") }) }
        var choices: [JSONValue] = []
        for c in r.choices {
            var choice: [JSONValue.Member] = [
                .init("index", .number("\(c.index)")),
                .init("message", .object([.init("role", .string(c.message.role)), .init("content", .string(c.message.content))])),
                .init("finish_reason", c.finishReason.map(JSONValue.string) ?? .null),
            ]
            if let reasoning = c.reasoningContent { choice.append(.init("reasoning_content", .string(reasoning))) }
            if let lp = c.logprobs {
                let content: [JSONValue] = try lp.map { t in
                    let top: [JSONValue] = try t.topLogprobs.map {
                        .object([.init("token", .string($0.token)), .init("logprob", try number($0.logprob)), .init("bytes", bytes($0.bytes))])
                    }
                    return .object([.init("token", .string(t.token)), .init("logprob", try number(t.logprob)),
                                    .init("bytes", bytes(t.bytes)), .init("top_logprobs", .array(top))])
                }
                choice.append(.init("logprobs", .object([.init("content", .array(content))])))
            }
            choices.append(.object(choice))
        }
        var object: [JSONValue.Member] = [.init("id", .string(r.id)), .init("model", .string(r.model)), .init("choices", .array(choices))]
        if let u = r.usage {
            object.append(.init("usage", .object([.init("prompt_tokens", .number("\(u.promptTokens)")),
                                                  .init("completion_tokens", .number("\(u.completionTokens)")),
                                                  .init("total_tokens", .number("\(u.totalTokens)"))])))
        }
        return JSONValue.object(object).canonicalData()
    }
}

/// A response that has no JSON form (a non-finite logprob).
struct AskEncodingError: Error, CustomStringConvertible {
    var description: String
}
