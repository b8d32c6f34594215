import DistillData
import DistillML
import Foundation

/// `distill generate`: a local model answers every item of a test set; output in seed format, resumable.
struct GenerateCommand: DistillCommand {
    static let adapter: Option<String?> = .value("adapter", "DIR", help: "a PEFT LoRA adapter folder (e.g. from distill train), applied unmerged over the base weights")
    static let data: Option<String?> = .value("data", "FILE", help: "test set (JSONL or JSON array)")
    static let out: Option<String?> = .value("out", "FILE", help: "output JSONL (appended to; existing items are skipped)")
    static let maxTokens: Option<Int> = .value("max-tokens", "N", default: 256, help: "most new tokens per answer")
    static let temperature: Option<Double> = .value("temperature", "T", default: 0, help: "0 = greedy")
    static let topK: Option<Int> = .value("top-k", "K", default: 0, help: "sample among the K most likely tokens (0 = off)")
    static let topP: Option<Double> = .value("top-p", "P", default: 1, help: "nucleus sampling mass (1 = off)")
    static let minP: Option<Double> = .value("min-p", "P", default: 0, help: "drop tokens below P × the top probability (0 = off)")
    static let seed: Option<Int> = .value("seed", "N", default: 0, help: "sampling seed (item i uses seed + i)")
    static let batch: Option<Int> = .value("batch", "N", default: 16, help: "sequences decoded together")
    static let limit: Option<Int?> = .value("limit", "N", help: "only the first N items")
    static let stop: Option<[String]> = .list("stop", "TEXT", help: "extra stop strings (the chat template's end-of-turn always stops)")
    static let precision: Option<LanguageModel.Precision> = .value("precision", "P", default: .fastest,
                   help: "int8: 4/8-bit weights × int8 inputs, llama.cpp's arithmetic (fastest); weights: 4/8-bit weights × fp32 inputs; exact: fp32 only, the path the parity tests check")
    static let exact: Option<Bool> = .flag("exact", help: "same as --precision exact")
    static let noPromptFormat: Option<Bool> = .flag("no-prompt-format", help: "ignore the prompt format distill train recorded beside the model (its answer prefix)")
    static let chatTemplate: Option<String?> = .value("chat-template", "NAME|FILE",
                   help: "chat format instead of the model's own: \(ChatTemplate.names.joined(separator: ", ")), or a Jinja template file")

    static let spec = CommandSpec(
        name: "generate",
        abstract: "run a local model over a test set; writes {instruction,input,reference_output,generate_output}",
        usage: "--data FILE --out FILE [--model M] [options]",
        discussion: """
            Input: JSONL or a JSON array of Alpaca items {"instruction","input","output"} or seed-format items
            {"instruction","input","reference_output"}. Each item becomes one user turn (instruction, a blank line, input)
            in the model's chat template (its family is named on load; a template of no known family is refused unless
            --chat-template names one). Output lines are written in input order; re-running with the same --out skips
            the items already there (a torn last line is repaired), so an interrupted run resumes. OUT.manifest.json
            fingerprints the model file, precision, sampling and chat template: resuming with any of them changed is
            refused, naming what changed. OUT.lock keeps a second process from writing the same file. An item's
            "category" is kept (the report breaks scores down by it). Answers never end in a partial character.
            """,
        options: [
            ModelOptions.model,
            adapter,
            data,
            out,
            maxTokens,
            temperature,
            topK,
            topP,
            minP,
            seed,
            batch,
            limit,
            stop,
            ModelOptions.threads,
            precision,
            exact,
            noPromptFormat,
            chatTemplate,
        ],
        examples: """
              distill generate --model smollm2-135m --data datasets/demo-test.jsonl --out runs/gen/base.jsonl --max-tokens 256
              distill generate --model smollm2-135m --adapter runs/student/adapter --data datasets/demo-test.jsonl --out runs/gen/student.jsonl
              distill generate --data datasets/demo-test.jsonl --out runs/gen/sampled.jsonl --temperature 0.7 --top-p 0.9 --seed 1
            """)

    var model: String
    var adapter: String?
    var data: String
    var out: String
    var maxTokens: Int
    var sampling: SamplingParameters
    var batch: Int
    var limit: Int?
    var stop: [String]
    var threads: Int
    var precision: LanguageModel.Precision
    var chatTemplate: String?
    /// Apply the answer prefix of a `prompt-format.json` found beside the model or adapter (see `PromptFormat.find`).
    var usePromptFormat = true

    init(_ args: ParsedArguments) throws {
        model = args[ModelOptions.model]
        adapter = args[Self.adapter]
        data = try args.required(Self.data)
        out = try args.required(Self.out)
        maxTokens = args[Self.maxTokens]
        let temperature = args[Self.temperature]
        let topK = args[Self.topK]
        let topP = args[Self.topP]
        let minP = args[Self.minP]
        let seed = args[Self.seed]
        batch = args[Self.batch]
        limit = args[Self.limit]
        threads = args[ModelOptions.threads]
        stop = args[Self.stop]
        precision = args[Self.exact] ? .exact : args[Self.precision]
        guard maxTokens > 0 else { throw UsageError("--max-tokens must be at least 1") }
        guard temperature >= 0, topK >= 0, (0...1).contains(topP), topP > 0, (0...1).contains(minP), seed >= 0 else {
            throw UsageError("sampling: --temperature ≥ 0, --top-k ≥ 0, 0 < --top-p ≤ 1, 0 ≤ --min-p ≤ 1, --seed ≥ 0")
        }
        guard (1...512).contains(batch), threads > 0 else { throw UsageError("--batch must be 1 to 512 and --threads positive") }
        if let limit, limit < 0 { throw UsageError("--limit must be ≥ 0") }
        sampling = SamplingParameters(temperature: Float(temperature), topK: topK, topP: Float(topP), minP: Float(minP), seed: UInt64(seed))
        chatTemplate = args[Self.chatTemplate]
        usePromptFormat = !args[Self.noPromptFormat]
        if let t = chatTemplate, ChatTemplate.named(t, bosToken: nil, eosToken: nil) == nil, !FileManager.default.fileExists(atPath: t) {
            throw UsageError("--chat-template: '\(t)' is neither a family (\(ChatTemplate.names.joined(separator: ", "))) nor a file")
        }
    }

    /// One test item: Alpaca (`output`) or seed format (`reference_output`); the reference may be absent.
    struct TestItem: DatasetRecord {
        var instruction: String
        var input: String
        var reference: String
        var category: String?

        enum CodingKeys: String, CodingKey { case instruction, input, output, reference_output, category }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            instruction = try c.decode(String.self, forKey: .instruction)
            input = try c.decodeIfPresent(String.self, forKey: .input) ?? ""
            reference = try c.decodeIfPresent(String.self, forKey: .reference_output)
                ?? c.decodeIfPresent(String.self, forKey: .output) ?? ""
            category = try c.decodeIfPresent(String.self, forKey: .category)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(instruction, forKey: .instruction)
            try c.encode(input, forKey: .input)
            try c.encode(reference, forKey: .reference_output)
            try c.encodeIfPresent(category, forKey: .category)
        }

        static let kindDescription = "test item"
        static let expectedShape = #"{"instruction": "...", "input": "..." (optional), "output" or "reference_output": "..." (optional)}"#
        var textFields: [(field: String, text: String)] { [("instruction", instruction), ("input", input)] }
    }

    func run() async throws {
        try EngineCPU.check()
        // The model must exist before anything is read, created or loaded.
        let modelPath = try ModelStore.resolve(model)
        let modelHash = try GenerateManifest.hash(model: modelPath)
        Parallel.configureBLAS(threads: threads)
        var items = try DatasetReader(path: data).readAll(TestItem.self)
        if let limit { items = Array(items.prefix(limit)) }
        let templateFile = chatTemplate.flatMap { ChatTemplate.named($0, bosToken: nil, eosToken: nil) == nil ? $0 : nil }
        let templateText = try templateFile.map { path -> String in
            guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, "cannot read the chat template") }
            return String(decoding: data, as: UTF8.self)
        }
        let format = usePromptFormat ? try PromptFormat.find(model: modelPath, adapter: adapter) : nil
        let adapterHash = try adapter.map { try GenerateManifest.hash(model: $0) }
        let manifest = GenerateManifest(model: modelPath, modelSHA256: modelHash, adapter: adapter, adapterSHA256: adapterHash,
                                        precision: precision.rawValue, sampling: [
            "temperature": "\(sampling.temperature)", "top_k": "\(sampling.topK)", "top_p": "\(sampling.topP)", "min_p": "\(sampling.minP)",
            "seed": "\(sampling.seed)", "max_tokens": "\(maxTokens)", "stop": stop.map { "\"\($0)\"" }.joined(separator: ", "),
        ], chatTemplate: (templateText.map { "file sha256:\(SHA256.hex($0).prefix(16))" } ?? chatTemplate?.lowercased() ?? "the model's own")
            + (format.map { " + answer prefix " + PromptFormat.quoted($0.answerPrefix) } ?? ""))
        // Creates the output's folder, takes OUT.lock and refuses a run of another model, precision, sampling or template.
        let (dir, name) = Self.runLocation(out)
        let run = try RunDirectory.open(dir, manifest: manifest, name: name)
        defer { run.close() }
        let done = try Self.itemsAlreadyWritten(out: out, items: items.map(\.value), data: data)
        let progress = ProgressReporter()
        if done == items.count {
            progress.finish("generate: all \(items.count) items already in \(out); nothing to do")
            return
        }
        let lm = try LanguageModel(path: modelPath, precision: precision, adapter: adapter)
        if let note = lm.precisionNote { DistillCLI.printError(note) }
        try useChatTemplate(lm, path: modelPath, text: templateText)
        if let format { FileHandle.standardError.write(Data((format.note("generate") + "\n").utf8)) }
        FileHandle.standardError.write(Data("generate: \(modelPath) · chat template \(lm.chatTemplate.family) · precision \(lm.precision.rawValue)\n".utf8))
        let context = lm.model.config.contextLength
        var requests: [GenerationRequest] = []
        for (i, item) in items.enumerated().dropFirst(done) {
            let prompt = lm.chatPrompt([(role: "user", content: Self.userTurn(item.value, format: format))])
            guard prompt.count < context else {
                throw DataError(file: data, line: item.line, field: "instruction",
                    "the prompt is \(prompt.count) tokens; the model's context is \(context): shorten this item or drop it")
            }
            var s = sampling
            s.seed = sampling.seed &+ UInt64(i)
            requests.append(GenerationRequest(id: i, prompt: prompt, maxTokens: min(maxTokens, context - prompt.count), stop: stop, sampling: s))
        }
        let capacity = min(context, (requests.map { $0.prompt.count + $0.maxTokens }.max() ?? 1) + 1)
        let slots = min(batch, requests.count)
        let appender = try JSONLinesAppender(path: out)
        let generator = lm.generator(slots: slots, capacity: capacity)
        var finished: [Int: GenerationResult] = [:]
        var nextToWrite = done
        var tokens = 0
        let start = DispatchTime.now().uptimeNanoseconds
        func line(final: Bool = false) -> String {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let rate = Double(tokens) / max(seconds, 1e-9)
            let itemsDone = nextToWrite - done
            let eta = itemsDone > 0 ? seconds / Double(itemsDone) * Double(items.count - nextToWrite) : .nan
            let tail = final ? "in " + Self.duration(seconds) : "ETA " + (eta.isFinite ? Self.duration(eta) : "…")
            return String(format: "generate: %d/%d items, %d tokens, %.1f tok/s, %@", nextToWrite, items.count, tokens, rate, tail)
        }
        // A stop signal ends the run at the next finished answer: the lines written so far are whole items in input
        // order, so the same command resumes after them (a second signal quits at once).
        let signals = StopSignals()
        signals.install { sig in
            progress.clear()
            FileHandle.standardError.write(Data(("\ndistill: \(StopSignals.name(sig)): stopping at the next finished "
                + "answer; the answers so far stay in \(out) (send it again to quit now)\n").utf8))
        }
        defer { signals.remove() }
        do {
            try generator.generate(requests, onStep: { n in
                tokens += n
                progress.update(line())
            }) { result in
                finished[result.id] = result
                // Lines go out in input order, so the output's first k lines are always the first k items (resume relies on it).
                while let r = finished.removeValue(forKey: nextToWrite) {
                    let item = items[nextToWrite].value
                    try appender.append(GenerationRecord(instruction: item.instruction, input: item.input,
                                                         referenceOutput: item.reference, generateOutput: r.text,
                                                         category: item.category).seedOrderJSON)
                    nextToWrite += 1
                }
                if signals.signal != nil { throw CancellationError() }
            }
        } catch is CancellationError {
            let sig = signals.signal ?? SIGINT
            progress.finish(line(final: true) + " → \(out)")
            throw StoppedBySignal(signal: sig, message: "stopped by \(StopSignals.name(sig)); \(nextToWrite) of \(items.count) "
                + "answers are in \(out); run the same command again to continue")
        }
        progress.finish(line(final: true) + " → \(out)")
    }

    /// The user's turn for a test item: instruction and input, after the answer prefix the model was trained with.
    static func userTurn(_ item: TestItem, format: PromptFormat?) -> String {
        let user = AlpacaChatMapping.userTurn(instruction: item.instruction, input: item.input)
        return format?.userTurn(user) ?? user
    }

    /// The folder and run name of an output file: `runs/x/generate/student.jsonl` → (`runs/x/generate`, `student`).
    static func runLocation(_ out: String) -> (dir: String, name: String) {
        let url = URL(fileURLWithPath: out)
        let file = url.lastPathComponent
        return (url.deletingLastPathComponent().path, file.hasSuffix(".jsonl") ? String(file.dropLast(6)) : file)
    }

    /// The model's own chat template, or the one `--chat-template` names; a template of no known family is refused.
    func useChatTemplate(_ lm: LanguageModel, path: String, text: String?) throws {
        let tok = lm.tokenizer
        let bos = tok.bosID.map(tok.tokenString), eos = tok.eosID.map(tok.tokenString)
        if let text {
            let t = ChatTemplate(templateText: text, bosToken: bos, eosToken: eos)
            guard t.isRecognized else {
                throw DataError(file: chatTemplate ?? "", "not a chat template of a family distill renders (\(ChatTemplate.names.joined(separator: ", ")))")
            }
            lm.useChatTemplate(t)
        } else if let name = chatTemplate, let t = ChatTemplate.named(name, bosToken: bos, eosToken: eos) {
            lm.useChatTemplate(t)
        } else if !lm.chatTemplate.isRecognized {
            let start = (tok.chatTemplateText ?? "").prefix(60)
            throw DataError(file: path, "its chat template is \(lm.chatTemplate.family)\(start.isEmpty ? "" : " (starts \"\(start)…\")"), "
                + "not a family distill renders; pass --chat-template with one of \(ChatTemplate.names.joined(separator: ", ")) or a Jinja FILE")
        }
    }

    /// How many leading items the output already holds; errors if those lines are not those items.
    static func itemsAlreadyWritten(out: String, items: [TestItem], data: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: out) else { return 0 }
        var count = 0
        for l in JSONLinesReader(path: out) where l.complete {
            guard let record = try? JSONDecoder().decode(GenerationRecord.self, from: l.bytes) else {
                throw DataError(file: out, line: l.number, "not a generation record; use another --out or delete this file")
            }
            guard count < items.count, record.instruction == items[count].instruction, record.input == items[count].input else {
                throw DataError(file: out, line: l.number, field: "instruction",
                    "does not match item \(count + 1) of \(data): this output belongs to another test set; use another --out")
            }
            count += 1
        }
        return count
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}
