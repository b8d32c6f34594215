import DistillML
import DistillServe
import Foundation

/// `distill serve`: local models behind the OpenAI protocol, continuous batching, JSON-schema-constrained output.
struct ServeCommand: DistillCommand {
    static let model: Option<[String]> = .list("model", "[NAME=]PATH", help: "a GGUF file, HF directory or known model name, served as NAME (repeatable; default \(ModelStore.defaultName))")
    static let adapter: Option<[String]> = .list("adapter", "NAME=DIR", help: "a PEFT LoRA adapter on the first --model, served unmerged as NAME (repeatable)")
    static let host: Option<String> = .value("host", "ADDR", default: "127.0.0.1", help: "IPv4 address to listen on (loopback by default)")
    static let port: Option<Int> = .value("port", "N", default: 8080, help: "TCP port (0 picks a free one)")
    static let slots: Option<Int> = .value("slots", "N", default: 8, help: "sequences decoded together per model")
    static let queue: Option<Int> = .value("queue", "N", default: 64, help: "requests that may wait for a slot before 503")
    static let ctx: Option<Int> = .value("ctx", "N", default: 2048, help: "tokens per slot (prompt + answer), at most the model's context")
    static let maxTokens: Option<Int> = .value("max-tokens", "N", default: 4096, help: "largest max_tokens a request may ask for")
    static let maxN: Option<Int> = .value("max-n", "N", default: 16, help: "most choices (n) per request")
    static let maxBody: Option<Int> = .value("max-body", "BYTES", default: 4194304, help: "largest request body (413 above)")
    static let apiKeyEnv: Option<String?> = .value("api-key-env", "VAR", help: "require Authorization: Bearer $VAR on every route but /health")
    static let drain: Option<Int> = .value("drain", "SECONDS", default: 10, help: "on SIGTERM, how long requests in flight may finish")
    static let noPromptFormat: Option<Bool> = .flag("no-prompt-format", help: "ignore the prompt format distill train recorded beside a model (its answer prefix)")

    static let spec = CommandSpec(
        name: "serve",
        abstract: "serve local models behind the OpenAI chat-completions protocol",
        usage: "[--model [NAME=]PATH]... [--host 127.0.0.1] [--port 8080] [--slots N] [--queue N] [options]",
        discussion: """
            Routes: POST /v1/chat/completions (stream, n, logprobs, response_format json_object / json_schema enforced
            by constrained decoding), POST /v1/completions (echo + logprobs scores text), GET /v1/models, GET /health,
            GET /metrics (Prometheus). Requests join the running batch between decoding steps; when --slots are busy
            and --queue requests wait, more get 503 with Retry-After. Ctrl-C or SIGTERM stops taking requests, lets
            those in flight finish for up to --drain seconds, and exits 0.

            Examples:
              distill serve                                   # smollm2-135m on http://127.0.0.1:8080/v1
              distill serve --model student=out/student.gguf --model base=smollm2-135m --slots 16
              distill serve --model base=smollm2-135m --adapter tutor=out/run1/adapter --adapter critic=out/run2/adapter
              KEY=secret distill serve --api-key-env KEY --port 9000

            --adapter NAME=DIR serves the first --model with a PEFT LoRA adapter applied unmerged, under NAME: every
            adapter shares that base's weights in memory (each adds its A/B factors and its own slots).
            """,
        options: [
            model,
            adapter,
            host,
            port,
            slots,
            queue,
            ctx,
            maxTokens,
            maxN,
            maxBody,
            apiKeyEnv,
            drain,
            ModelOptions.threads,
            ModelOptions.precision,
            noPromptFormat,
        ],
        examples: """
              distill serve                                 # smollm2-135m at http://127.0.0.1:8080/v1
              distill serve --model student=runs/student.gguf --model base=smollm2-135m --slots 16 --queue 64
              distill serve --model base=smollm2-135m --adapter tutor=runs/student/adapter --api-key-env KEY --port 9000
            """)

    var models: [(name: String, path: String)]
    /// LoRA adapters served over the first model's weights.
    var adapters: [(name: String, directory: String)]
    var options = ServeOptions()
    var slots: Int
    var queue: Int
    var context: Int
    var drain: Int
    var threads: Int
    var precision: LanguageModel.Precision
    var apiKeyEnv: String?
    var usePromptFormat = true

    init(_ args: ParsedArguments) throws {
        let specs = args[Self.model].isEmpty ? [ModelStore.defaultName] : args[Self.model]
        models = try specs.map { spec in
            if let eq = spec.firstIndex(of: "="), !FileManager.default.fileExists(atPath: spec) {
                let name = String(spec[..<eq]), path = String(spec[spec.index(after: eq)...])
                guard !name.isEmpty, !path.isEmpty else { throw UsageError("--model: '\(spec)' must be NAME=PATH or PATH") }
                return (name, path)
            }
            let base = (spec as NSString).lastPathComponent
            let name = ModelStore.known.contains { $0.name == spec.lowercased() } ? spec.lowercased()
                : ((base as NSString).deletingPathExtension.isEmpty ? base : (base as NSString).deletingPathExtension)
            return (name, spec)
        }
        adapters = try args[Self.adapter].map { spec in
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else {
                throw UsageError("--adapter: '\(spec)' must be NAME=DIR (a PEFT adapter folder served over the first --model)")
            }
            return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
        }
        let names = models.map(\.name) + adapters.map(\.name)
        guard Set(names).count == names.count else { throw UsageError("--model/--adapter: two models share a name; give each its own NAME") }
        let host = args[Self.host]
        options.host = host == "localhost" ? "127.0.0.1" : host
        options.port = args[Self.port]
        slots = args[Self.slots]
        queue = args[Self.queue]
        context = args[Self.ctx]
        options.maxTokensLimit = args[Self.maxTokens]
        options.maxN = args[Self.maxN]
        options.maxBodyBytes = args[Self.maxBody]
        drain = args[Self.drain]
        threads = args[ModelOptions.threads]
        precision = args[ModelOptions.precision]
        apiKeyEnv = args[Self.apiKeyEnv]
        usePromptFormat = !args[Self.noPromptFormat]
        guard (0...65535).contains(options.port) else { throw UsageError("--port must be 0 to 65535") }
        guard (1...256).contains(slots), (0...100_000).contains(queue), context >= 16, threads > 0, drain >= 0 else {
            throw UsageError("--slots 1 to 256, --queue ≥ 0, --ctx ≥ 16, --threads and --drain positive")
        }
        guard options.maxTokensLimit > 0, options.maxN > 0, options.maxBodyBytes > 0 else {
            throw UsageError("--max-tokens, --max-n and --max-body must be positive")
        }
    }

    func run() async throws {
        try EngineCPU.check()
        Parallel.configureBLAS(threads: threads)
        var options = options
        if let env = apiKeyEnv {
            guard let key = ProcessInfo.processInfo.environment[env], !key.isEmpty else {
                throw UsageError("--api-key-env \(env): the variable is not set or empty")
            }
            options.apiKey = key
        }
        var served: [ServedModel] = []
        for (name, spec) in models {
            let path = try ModelStore.resolve(spec)
            let lm = try LanguageModel(path: path, precision: precision)
            let format = usePromptFormat ? try PromptFormat.find(model: path, adapter: nil) : nil
            if let format { FileHandle.standardError.write(Data((format.note("serve: \(name)") + "\n").utf8)) }
            served.append(ServedModel(name: name, model: lm, slots: slots, queue: queue, context: context, promptFormat: format))
        }
        if let base = served.first?.engine.model {
            for (name, directory) in adapters {
                let lm = try base.sharingBase(adapter: directory)
                served.append(ServedModel(name: name, model: lm, slots: slots, queue: queue, context: context))
            }
        }
        let server = try ServeServer(models: served, options: options)
        FileHandle.standardError.write(Data(("distill serve: http://\(options.host):\(server.port)/v1 serving "
            + served.map(\.name).joined(separator: ", ") + " (\(slots) slots, queue \(queue)); Ctrl-C stops\n").utf8))
        await ShutdownSignal.wait()
        FileHandle.standardError.write(Data("distill serve: stopping (finishing requests in flight for up to \(drain) s)\n".utf8))
        server.shutdown(within: .seconds(drain))
    }
}

/// Waits for SIGINT or SIGTERM (both then ignored, so the drain is not cut short by the default action).
enum ShutdownSignal {
    static func wait() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "distill.serve.signals")
            let fired = Box()
            var sources: [any DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler {
                    guard !fired.value else { return }
                    fired.value = true
                    done.resume()
                }
                source.resume()
                sources.append(source)
            }
            Keep.sources = sources
        }
    }

    private final class Box: @unchecked Sendable { var value = false }  // touched only on the signal queue
    private enum Keep { nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = [] }
}
