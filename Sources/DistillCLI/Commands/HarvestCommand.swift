import DistillData
import DistillHTTP
import DistillML
import DistillClient
import DistillHarvest
import Foundation

/// `distill harvest`: run a recipe against a teacher into a resumable run directory.
struct HarvestCommand: DistillCommand {
    static let recipes = ["answer", "cot", "critique-revise", "counterfactual", "self-instruct", "icl", "generate-data"]

    static let recipe: Option<String?> = .value("recipe", "R", help: "answer | cot | critique-revise | counterfactual | self-instruct | icl | generate-data")
    static let data: Option<String?> = .value("data", "FILE", help: "input items (JSONL or a JSON array); for self-instruct the seed tasks")
    static let pool: Option<String?> = .value("pool", "FILE", help: "icl: worked examples to draw demonstrations from (default: --data)")
    static let task: Option<String?> = .value("task", "TEXT", help: "generate-data: the task description")
    static let taskFile: Option<String?> = .value("task-file", "FILE", help: "generate-data: read the task description from a file")
    static let out: Option<String?> = .value("out", "RUN", help: "run directory (default: runs/harvest-RECIPE)")
    static let prompts: Option<String?> = .value("prompts", "DIR", help: "prompt templates folder (default: $DISTILL_PROMPT_DIR, then prompts/)")
    static let system: Option<String?> = .value("system", "TEXT", help: "system message (default: prompts/system.txt; '' for none)")
    static let temperature: Option<Double> = .value("temperature", "T", default: 0.7, help: "sampling temperature")
    static let topP: Option<Double?> = .value("top-p", "P", help: "nucleus sampling (server default if unset)")
    static let maxTokens: Option<Int> = .value("max-tokens", "N", default: 512, help: "most tokens per reply")
    static let seed: Option<Int?> = .value("seed", "N", help: "base seed; sample i is sent with seed+i (unset: no seed)")
    static let samples: Option<Int> = .value("samples", "N", default: 1, help: "answer: replies per instruction")
    static let topLogprobs: Option<Int?> = .value("top-logprobs", "K", help: "answer: keep per-token logprobs with the top K alternatives")
    static let paths: Option<Int> = .value("paths", "N", default: 4, help: "cot: reasoning paths sampled per question")
    static let minCorrect: Option<Int> = .value("min-correct", "K", default: 1, help: "cot: keep sampling until K paths are correct …")
    static let maxPaths: Option<Int> = .value("max-paths", "M", default: 8, help: "cot: … or M paths were tried")
    static let shots: Option<Int?> = .value("shots", "K", help: "icl / self-instruct: demonstrations per prompt (default 4 / 3)")
    static let iclMode: Option<ICLRecipe.Mode> = .value("icl-mode", "MODE", default: .sameTask, help: "icl: same-task | mixed (meta-ICL / multitask-ICL)")
    static let numInstructions: Option<Int> = .value("num-instructions", "N", default: 100, help: "self-instruct: instructions to keep")
    static let numSamples: Option<Int> = .value("num-samples", "N", default: 100, help: "generate-data: samples to keep")
    static let perRequest: Option<Int?> = .value("per-request", "N", help: "self-instruct / generate-data: items asked for per request (default 8 / 5)")
    static let rougeThreshold: Option<Double> = .value("rouge-threshold", "F", default: 0.7, help: "self-instruct: drop instructions with ROUGE-L above this")
    static let maxRounds: Option<Int?> = .value("max-rounds", "N", help: "self-instruct / generate-data: give up after N requests (default 3× needed)")
    static let concurrency: Option<Int> = .value("concurrency", "N", default: 16, help: "requests in flight")
    static let rpm: Option<Int?> = .value("rpm", "N", help: "requests per minute allowed (else learnt from x-ratelimit headers)")
    static let tpm: Option<Int?> = .value("tpm", "N", help: "tokens per minute allowed")
    static let attempts: Option<Int> = .value("attempts", "N", default: 8, help: "attempts per request for retryable failures (429s are paced by the limiter, not counted)")
    static let giveUpAfter: Option<Double> = .value("give-up-after", "SECONDS", default: 900, help: "stop retrying a request this long after its first attempt")
    static let retryBase: Option<Double> = .value("retry-base", "SECONDS", default: 1, help: "backoff base (full jitter, capped at 60 s)")
    static let timeout: Option<Double> = .value("timeout", "SECONDS", default: 300, help: "give up on one attempt after this long")
    static let fsync: Option<Bool> = .flag("fsync", help: "fsync the journal after every line (survives power loss; slower)")
    static let retryFailed: Option<Bool> = .flag("retry-failed", help: "send again the requests in failures.jsonl")
    static let new: Option<Bool> = .flag("new", help: "start over when the run directory was made with a different configuration")
    static let dryRun: Option<Bool> = .flag("dry-run", help: "send nothing: print requests, estimated tokens and cost")
    static let offline: Option<Bool> = .flag("offline", help: "send nothing: write outputs from the journal only (e.g. after 'harvest merge')")
    static let budget: Option<Double?> = .value("budget", "USD", help: "cap on the run's total spend across invocations: refuse to start above it, stop before passing it")
    static let priceIn: Option<Double?> = .value("price-in", "USD", help: "price per 1M prompt tokens (default: built-in table; required with --budget for other models)")
    static let priceOut: Option<Double?> = .value("price-out", "USD", help: "price per 1M completion tokens")
    static let expectedOutputTokens: Option<Int?> = .value("expected-output-tokens", "N", help: "completion tokens to assume per request in estimates (default: max-tokens)")
    static let tokenizer: Option<String?> = .value("tokenizer", "FILE", help: "GGUF or tokenizer.json to count prompt tokens for estimates (default: heuristic)")
    static let batch: Option<Bool> = .flag("batch", help: "send through the OpenAI Batch API (half price, results within 24 h; resumable)")
    static let batchPoll: Option<Double> = .value("batch-poll", "SECONDS", default: 60, help: "batch status polling interval")
    static let shard: Option<String?> = .value("shard", "I/N", help: "work only on shard I of N (1-based, by item id), or auto (Slurm array / Kubernetes Indexed Job); merge with 'harvest merge'")
    static let progressEvery: Option<Double> = .value("progress-every", "SECONDS", default: 10, help: "progress line interval when stderr is not a terminal")

    static let spec = CommandSpec(
        name: "harvest",
        abstract: "harvest training data from a teacher (recipes: answer, cot, critique-revise, counterfactual, self-instruct, icl, generate-data)",
        usage: "--recipe R --teacher URL|PRESET --model M [--data FILE] [--out RUN] [options]",
        discussion: """
        Results go to RUN (default runs/harvest-RECIPE): manifest.json (what the run was made from), journal.jsonl (every
        completed request, written before it counts), failures.jsonl (requests that failed for good, and why) and the
        recipe's output files, rewritten from the journal at the end of every run. Running the same command again
        resumes: recorded requests are never sent again. A changed input, prompt, model or generation parameter is
        refused with what changed, unless --new (the old run is moved aside). Quantities (--samples, --paths,
        --num-samples, …) may grow on resume. Concurrency, limits, retries and --fsync are not part of the fingerprint.
        Inputs: answer/icl/self-instruct seeds: Alpaca JSONL (instruction, input, output; optional id, task);
        cot/critique-revise/counterfactual: {"id","question","answer","choices"} or CommonsenseQA or Alpaca rows.
        --teacher takes a base URL or a preset (\(Endpoint.presetNames.joined(separator: ", "))); the key is read from --key-env.
        Subcommand: 'distill harvest merge' joins the journals of --shard runs.
        """,
        options: [
            recipe,
            data,
            pool,
            task,
            taskFile,
            out,
            TeacherEndpointArguments.teacher,
            TeacherEndpointArguments.model,
            TeacherEndpointArguments.keyEnv,
            prompts,
            system,
            temperature,
            topP,
            maxTokens,
            seed,
            samples,
            topLogprobs,
            paths,
            minCorrect,
            maxPaths,
            shots,
            iclMode,
            numInstructions,
            numSamples,
            perRequest,
            rougeThreshold,
            maxRounds,
            concurrency,
            rpm,
            tpm,
            attempts,
            giveUpAfter,
            retryBase,
            timeout,
            fsync,
            retryFailed,
            new,
            dryRun,
            offline,
            budget,
            priceIn,
            priceOut,
            expectedOutputTokens,
            tokenizer,
            batch,
            batchPoll,
            shard,
            progressEvery,
        ],
        subcommands: [HarvestMergeCommand.self],
        examples: """
              distill harvest --recipe answer --data datasets/instructions.jsonl --teacher deepseek --out runs/seqkd
              distill harvest --recipe cot --data datasets/reasoning.jsonl --paths 4 --min-correct 2 --teacher deepseek --out runs/cot
              distill harvest --recipe answer --data datasets/instructions.jsonl --teacher deepseek --dry-run   # tokens and cost; sends nothing
            """)

    let arguments: ParsedArguments
    let recipe: String
    let endpoint: Endpoint
    let out: String
    /// `--shard I/N`, or the scheduler's shard for `--shard auto`.
    private(set) var shard: HarvestShard?

    init(_ args: ParsedArguments) throws {
        _ = try args.positionals(max: 0)
        arguments = args
        recipe = try args.required(Self.recipe)
        guard Self.recipes.contains(recipe) else {
            throw UsageError("unknown recipe '\(recipe)'; one of: \(Self.recipes.joined(separator: ", "))")
        }
        endpoint = try TeacherEndpointArguments.endpoint(args)
        out = args[Self.out] ?? "runs/harvest-\(recipe)"
        if recipe == "generate-data" {
            guard args.isSet(Self.task) || args.isSet(Self.taskFile) else {
                throw UsageError("generate-data needs --task TEXT or --task-file FILE")
            }
        } else if args[Self.data] == nil {
            throw UsageError("recipe \(recipe) needs --data FILE")
        }
        if let given = args[Self.shard] {
            if given == "auto" {
                switch HarvestShard.fromEnvironment(ProcessInfo.processInfo.environment) {
                case .success(let s): shard = s
                case .failure(let e): throw UsageError(e.description)
                }
            } else {
                guard let s = HarvestShard(parsing: given) else { throw UsageError("--shard wants I/N with 1 ≤ I ≤ N or auto, got '\(given)'") }
                shard = s
            }
            guard !["self-instruct", "generate-data"].contains(recipe) else {
                throw UsageError("--shard splits input items; \(recipe) generates its items, so it cannot be sharded")
            }
        }
        for option in [Self.concurrency, Self.attempts, Self.samples, Self.paths, Self.maxTokens] where args[option] < 1 {
            throw UsageError("--\(option.name) must be at least 1")
        }
        if args[Self.temperature] < 0 { throw UsageError("--temperature must not be negative") }
        if recipe == "cot", args[Self.temperature] == 0, args[Self.paths] > 1 {
            throw UsageError("cot samples several paths: give --temperature above 0 (or --paths 1)")
        }
        if args[Self.batch], ["self-instruct", "generate-data"].contains(recipe) {
            throw UsageError("--batch runs fixed requests; \(recipe) decides each round from the last, so run it online")
        }
        if let budget = args[Self.budget] {
            guard budget >= 0 else { throw UsageError("--budget must not be negative") }
            // An unknown price estimates $0, and a $0 estimate never reaches any budget: refuse rather than protect nothing.
            if TeacherPrice.lookup(endpoint.model) == nil, !(args.isSet(Self.priceIn) && args.isSet(Self.priceOut)) {
                throw UsageError("--budget needs a price, and model '\(endpoint.model)' is not in the price table "
                    + "(dated \(TeacherPrice.tableDate)): give --price-in and --price-out in USD per 1M tokens "
                    + "(0 and 0 for a local server)")
            }
        }
        for option in [Self.priceIn, Self.priceOut] {
            if let v = args[option], v < 0 { throw UsageError("--\(option.name) must not be negative") }
        }
        if args[Self.giveUpAfter] <= 0 { throw UsageError("--give-up-after must be positive") }
    }

    func run() async throws {
        let args = arguments
        // Against `distill serve`, generate-data and self-instruct replies are constrained to a JSON schema.
        var structured = false
        if ["generate-data", "self-instruct"].contains(recipe), !args[Self.dryRun], !args[Self.offline], !args[Self.batch] {
            structured = await OpenAIClient(endpoint: endpoint, http: try HTTPClient(configuration: .init(
                timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(10), idle: .seconds(10))))).servesJSONSchema()
            if structured { DistillCLI.printError("harvest: the endpoint is distill serve; replies constrained to a JSON schema") }
        }
        let plan = try HarvestPlan(arguments, recipe: recipe, endpoint: endpoint, structured: structured)
        var options = HarvestSession.Options()
        options.concurrency = args[Self.concurrency]
        options.retryFailed = args[Self.retryFailed]
        options.dryRun = args[Self.dryRun]
        options.offline = args[Self.offline]
        options.budget = args[Self.budget]
        options.expectedOutputTokens = args[Self.expectedOutputTokens]
        options.shard = shard
        options.price = try Self.price(args, model: endpoint.model)
        if args[Self.batch] {
            // The Batch API bills half the online price.
            options.price = TeacherPrice(inputPerMillion: options.price.inputPerMillion / 2,
                                         outputPerMillion: options.price.outputPerMillion / 2)
        }
        options.estimator = try Self.estimator(args)
        options.stopsRun = Self.stopsRun

        if options.dryRun {
            try await dryRun(plan, options: options)
            return
        }
        var manifest = plan.manifest
        manifest.shard = options.shard?.description
        let directory = try HarvestRunDirectory.open(out, manifest: manifest, startNew: args[Self.new])
        if let aside = directory.movedAside { DistillCLI.printError("the earlier run in \(out) was moved to \(aside)") }
        if args[Self.batch] {
            try await runBatch(plan, directory: directory, options: options)
            return
        }
        let stats = HarvestStats()
        let client = try makeClient(stats: stats, concurrency: options.concurrency)
        let reporter = ProgressReporter(interval: args[Self.progressEvery])
        let rpm = args[Self.rpm], tpm = args[Self.tpm]
        let signals = StopSignals()
        defer { signals.remove() }
        let summary = try await HarvestRunner.run(
            plan.recipe, in: directory, client: client, options: options, sync: args[Self.fsync] ? .fsync : .flush,
            stats: stats, rpmLimit: rpm, tpmLimit: tpm, onStart: { session in
                signals.install { sig in
                    FileHandle.standardError.write(Data(("\ndistill: \(StopSignals.name(sig)): finishing the requests in "
                        + "flight and writing the outputs (send it again to quit now)\n").utf8))
                    session.stop("interrupted (\(StopSignals.name(sig)))")
                }
            }) { line, final in
                final ? reporter.finish(line) : reporter.update(line)
            }
        report(summary, budget: options.budget)
        if let sig = signals.signal {
            throw StoppedBySignal(signal: sig, message: "stopped by \(StopSignals.name(sig)); results so far are in \(out) "
                + "(journal and outputs written); run the same command again to continue")
        }
        if let stopped = summary.stopped {
            var message = "stopped early: \(stopped). Results so far are in \(out)"
            if let budget = options.budget, stopped.hasPrefix("budget reached") {
                message += String(format: "; this run has spent $%.4f of --budget $%.4f in all, $%.4f left (the budget "
                    + "caps the run's total across invocations: to continue, run the same command with a larger --budget)",
                    summary.runSpend, budget, max(0, budget - summary.runSpend))
            } else {
                message += "; run the same command again to continue."
            }
            throw HarvestError(.stopped, message)
        }
        if !summary.failedItems.isEmpty {
            throw HarvestError(.itemsFailed, "\(summary.failedItems.count) items failed (the others are in \(out)); "
                + "see \(out)/failures.jsonl, fix the cause and run the same command with --retry-failed")
        }
    }

    private func dryRun(_ plan: HarvestPlan, options: HarvestSession.Options) async throws {
        // Reuse the run's journal when it is this run, so finished requests count as free; else a scratch one.
        var journalDirectory = NSTemporaryDirectory() + "distill-dry-run-\(getpid())"
        var scratch = true
        if let data = FileManager.default.contents(atPath: out + "/manifest.json"),
           let old = try? JSONDecoder().decode(HarvestManifest.self, from: data), old.differences(from: plan.manifest).isEmpty {
            journalDirectory = out
            scratch = false
        } else {
            try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true)
        }
        defer { if scratch { try? FileManager.default.removeItem(atPath: journalDirectory) } }
        let journal = try HarvestJournal(directory: journalDirectory)
        let e = try await HarvestRunner.estimate(plan.recipe, journal: journal, options: options)
        let calibrated = e.calibratedStages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let completion = options.expectedOutputTokens.map { "\($0) per request (--expected-output-tokens)" }
            ?? (calibrated.isEmpty ? "\(plan.generation.maxTokens ?? 256) per request (--max-tokens; replies are often shorter)"
                                   : "mean of the replies in the journal: \(calibrated) per request")
        print("""
            dry run of \(plan.recipe.name) against \(maskedURL(endpoint.baseURL)) (model \(endpoint.model)); nothing was sent
              requests to send:   \(e.requests)\(e.cachedRequests > 0 ? " (\(e.cachedRequests) more already in \(out)/journal.jsonl)" : "")
              prompt tokens:      \(e.tokensIn) (counted with \(options.estimator.name))
              completion tokens:  \(e.tokensOut) (\(completion))
              estimated cost:     \(String(format: "$%.4f", e.cost)) at \(String(format: "$%.3f", options.price.inputPerMillion)) in / \(String(format: "$%.3f", options.price.outputPerMillion)) out per 1M tokens
            """)
        let prior = HarvestSession.spend(journal, price: options.price)
        if prior > 0 { print(String(format: "  already spent:      $%.4f by this run (counts against --budget)", prior)) }
        if let budget = options.budget, prior + e.cost > budget {
            throw HarvestError(.overBudget, String(format: "the estimate $%.4f is above the $%.4f left of --budget $%.4f",
                                                   e.cost, max(0, budget - prior), budget))
        }
    }

    private func runBatch(_ plan: HarvestPlan, directory: HarvestRunDirectory, options: HarvestSession.Options) async throws {
        if let budget = options.budget {
            let journal = try HarvestJournal(directory: directory.path)
            let e = try await HarvestRunner.estimate(plan.recipe, journal: journal, options: options)
            let prior = HarvestSession.spend(journal, price: options.price)
            if prior + e.cost > budget {
                throw HarvestError(.overBudget, String(format: "the batch estimate $%.4f is above the $%.4f left of --budget "
                    + "$%.4f (the run has spent $%.4f); nothing was sent", e.cost, max(0, budget - prior), budget, prior))
            }
        }
        let poll = arguments[Self.batchPoll]
        let runner = try HarvestBatchRunner(endpoint: endpoint, http: try HTTPClient(), directory: directory,
                                            pollInterval: .milliseconds(Int64(poll * 1000)), log: { DistillCLI.printError($0) })
        let rows = try await runner.run(plan.recipe, options: options, sync: arguments[Self.fsync] ? .fsync : .flush)
        for (file, count) in rows.sorted(by: { $0.key < $1.key }) { DistillCLI.printError("  \(out)/\(file): \(count) rows") }
    }

    private func report(_ s: HarvestRunner.Summary, budget: Double?) {
        var spend = String(format: ", $%.4f", s.stats.cost)
        if s.priorSpend > 0 || budget != nil { spend += String(format: " ($%.4f for the run in all", s.runSpend) }
        if let budget { spend += String(format: " of --budget $%.4f", budget) }
        if s.priorSpend > 0 || budget != nil { spend += ")" }
        var lines = ["harvest \(recipe): \(s.stats.sent) requests sent, \(s.stats.resumed) answered from the journal, "
            + "\(s.stats.tokensIn) tokens in, \(s.stats.tokensOut) out" + spend]
        for (file, count) in s.outputs.sorted(by: { $0.key < $1.key }) { lines.append("  \(out)/\(file): \(count) rows") }
        if !s.failedItems.isEmpty {
            lines.append("  \(s.failedItems.count) items failed (requests in \(out)/failures.jsonl; --retry-failed sends them again); first: "
                + (s.failedItems.first.map { "\($0.id): \($0.reason)" } ?? ""))
        }
        if s.skippedByShard > 0 { lines.append("  \(s.skippedByShard) items belong to other shards") }
        for note in s.notes { lines.append("  " + note) }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    private func makeClient(stats: HarvestStats, concurrency: Int) throws -> any ChatCompleting {
        let args = arguments
        let seconds = args[Self.timeout]
        let http = try HTTPClient(configuration: .init(
            timeouts: HTTPTimeouts(connect: .seconds(10), total: .milliseconds(Int64(seconds * 1000)), idle: .seconds(120))))
        var retry = RetryPolicy(maxAttempts: args[Self.attempts],
                                base: .milliseconds(Int64((args[Self.retryBase]) * 1000)))
        retry.maxElapsed = .milliseconds(Int64((args[Self.giveUpAfter]) * 1000))
        let limits = RateLimiter<ContinuousClock>.Limits(requestsPerMinute: args[Self.rpm], tokensPerMinute: args[Self.tpm])
        return TeacherClient(openAI: OpenAIClient(endpoint: endpoint, http: http),
                             options: .init(retry: retry, limits: limits, maxConcurrent: concurrency),
                             clock: ContinuousClock()) { event in
            switch event {
            case .retrying: stats.noteRetry()
            case .rateLimited: stats.noteRateLimited()
            default: break
            }
        }
    }

    /// Errors after which every further request would fail too: stop the run instead of failing items one by one.
    static func stopsRun(_ error: any Error) -> String? {
        guard let e = error as? TeacherError else { return nil }
        switch e.kind {
        case .insufficientQuota, .missingKey: return e.description
        case .http(let status) where status == 401 || status == 403: return e.description + " (check the key and --key-env)"
        default: return nil
        }
    }

    static func price(_ args: ParsedArguments, model: String) throws -> TeacherPrice {
        let table = TeacherPrice.lookup(model) ?? .free
        return TeacherPrice(inputPerMillion: args[Self.priceIn] ?? table.inputPerMillion,
                            outputPerMillion: args[Self.priceOut] ?? table.outputPerMillion)
    }

    static func estimator(_ args: ParsedArguments) throws -> TokenEstimator {
        guard let path = args[Self.tokenizer] else { return .heuristic }
        let tokenizer: Tokenizer
        do {
            tokenizer = path.hasSuffix(".json") ? try Tokenizer(tokenizerJSONAt: path) : try Tokenizer(ggufAt: path)
        } catch {
            throw DataError(file: path, "cannot load a tokenizer from it (\(error)); give a GGUF model or a tokenizer.json")
        }
        return TokenEstimator(name: "the tokenizer and chat template of \((path as NSString).lastPathComponent)",
                              countText: { tokenizer.encode($0, addSpecial: false).count },
                              countPrompt: { tokenizer.encodeChat($0.map { (role: $0.role, content: $0.content) }).count })
    }
}

/// `--icl-mode same-task|mixed`.
extension ICLRecipe.Mode: OptionValue {}
