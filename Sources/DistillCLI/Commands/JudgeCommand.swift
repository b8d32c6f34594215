import DistillData
import DistillJudge
import DistillClient
import DistillHarvest
import Foundation

/// `distill judge`: scores generation files with an LLM judge (or by rule), journaling every judgment so a rerun
/// resumes, then writes the report.
struct JudgeCommand: DistillCommand {
    static let judge: Option<String?> = .value("judge", "URL", help: "base URL of an OpenAI-compatible judge, e.g. https://open.bigmodel.cn/api/paas/v4")
    static let model: Option<String?> = .value("model", "NAME", help: "the judge's model name, e.g. glm-4-flash")
    static let inputs: Option<[String]> = .list("inputs", "FILE", help: "generation files, one per model")
    static let labels: Option<[String]> = .list("labels", "NAME", help: "a label per input for the report (default: file names)")
    static let out: Option<String?> = .value("out", "DIR", help: "folder for judgments.jsonl, the manifest and the report")
    static let keyEnv: Option<String?> = .value("key-env", "VAR", help: "environment variable holding the judge's API key (its value is never printed); omit for local servers")
    static let rubric: Option<String> = .value("rubric", "NAME", default: "judge", help: "rubric in prompts/ (judge, judge-explanation, or your own) or a path to a rubric file")
    static let score: Option<String> = .value("score", "MODE", default: "judge", help: "judge, or rule-based accuracy: exact, numeric, choice")
    static let concurrency: Option<Int> = .value("concurrency", "N", default: 4, help: "judge requests in flight")
    static let rpm: Option<Int?> = .value("rpm", "N", help: "requests per minute allowed by the judge's provider")
    static let tpm: Option<Int?> = .value("tpm", "N", help: "tokens per minute allowed by the judge's provider")
    static let repeats: Option<Int> = .value("repeats", "R", default: 1, help: "judge every item R times (the report shows the spread; scores are the median)")
    static let temperature: Option<Double> = .value("temperature", "T", default: 0, help: "judge sampling temperature")
    static let maxTokens: Option<Int> = .value("max-tokens", "N", default: 512, help: "judge reply budget")
    static let resamples: Option<Int> = .value("resamples", "N", default: 2, help: "re-samples after the repair turn before an item is unscored")
    static let noRepair: Option<Bool> = .flag("no-repair", help: "skip the repair turn")
    static let keepUnscored: Option<Bool> = .flag("keep-unscored", help: "on rerun, do not ask unscored items again (default: ask them again)")
    static let teacher: Option<String?> = .value("teacher", "LABEL", help: "which input is the teacher, for retention (default: the first input)")
    static let teacherModel: Option<String?> = .value("teacher-model", "NAME", help: "the teacher's API model name, to warn if the judge is the teacher or its family")
    static let baseline: Option<String?> = .value("baseline", "LABEL", help: "an input to measure gap closed against, e.g. the untrained student")
    static let referenceFromTeacher: Option<Bool> = .flag("reference-from-teacher", help: "the reference outputs were written by the teacher (the report warns)")

    static let spec = CommandSpec(
        name: "judge",
        abstract: "score generations with a JSON-strict LLM judge (0-5 on four criteria)",
        usage: "--judge URL --model NAME --inputs GEN.jsonl … --out DIR [options]",
        discussion: """
        Each input is a generation file in seed 000's format ({"instruction","input","reference_output","generate_output"});
        all inputs should list the same test items in the same order, so models can be compared item by item.
        The judge is asked with response_format json_schema (reason first, each score an enum), falling back to
        json_object and then to the prompt alone when the endpoint rejects it. Replies go through the parse ladder
        (strict, fenced/prose, trailing commas, truncated, one repair turn, re-samples); a reply that never validates
        is recorded as unscored with its raw text, never as a score. Judgments are appended to DIR/judgments.jsonl:
        rerunning the same command asks only items without a verdict. The report (DIR/report.md, .html, .csv) is
        written at the end; rebuild it any time with 'distill report DIR'. DIR/manifest.json fingerprints the judge
        (endpoint with any password masked, model, rubric, prompt, parameters): rerunning into DIR with any of them
        changed is refused, naming what changed; DIR/.lock keeps a second judge process out.
        --score exact|numeric|choice scores by rule instead (accuracy; no judge needed).
        """,
        options: [
            judge,
            model,
            inputs,
            labels,
            out,
            keyEnv,
            rubric,
            score,
            concurrency,
            rpm,
            tpm,
            repeats,
            temperature,
            maxTokens,
            resamples,
            noRepair,
            keepUnscored,
            teacher,
            teacherModel,
            baseline,
            referenceFromTeacher,
        ],
        examples: """
              distill judge --judge https://open.bigmodel.cn/api/paas/v4 --model glm-4-flash --key-env ZHIPUAI_API_KEY \\
                  --inputs runs/gen/teacher.jsonl runs/gen/student.jsonl --labels teacher student --out runs/judge
              distill judge --score numeric --inputs runs/gen/student.jsonl --out runs/acc   # accuracy by rule, no judge model
              distill judge --judge http://127.0.0.1:8080/v1 --model smollm2-135m --inputs runs/gen/student.jsonl --repeats 3 --out runs/judge-local
            """)

    var inputs: [JudgeInput]
    var outDir: String
    var mode: String
    var endpoint: String
    var model: String
    var keyEnv: String?
    var rubricName: String
    var concurrency: Int
    var rpm: Int?
    var tpm: Int?
    var repeats: Int
    var settings: JudgeSettings
    var retryUnscored: Bool
    var teacherLabel: String?
    var teacherModel: String?
    var baselineLabel: String?
    var referenceFromTeacher: Bool

    init(_ args: ParsedArguments) throws {
        _ = try args.positionals(max: 0)
        let files = args[Self.inputs]
        guard !files.isEmpty else { throw UsageError("missing required option '--inputs' (one generation file per model)") }
        var labels = args[Self.labels]
        if labels.isEmpty { labels = files.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } }
        guard labels.count == files.count else {
            throw UsageError("--labels gives \(labels.count) names for \(files.count) inputs; give one per input")
        }
        guard Set(labels).count == labels.count else { throw UsageError("labels must differ: \(labels.joined(separator: ", "))") }
        inputs = zip(labels, files).map { JudgeInput(label: $0, path: $1) }
        outDir = try args.required(Self.out)
        mode = args[Self.score]
        guard mode == "judge" || AnswerScorer.Mode(rawValue: mode) != nil else {
            throw UsageError("--score must be judge, exact, numeric or choice; got '\(mode)'")
        }
        endpoint = args[Self.judge] ?? ""
        model = args[Self.model] ?? ""
        if mode == "judge" {
            guard !endpoint.isEmpty else { throw UsageError("missing required option '--judge' (the judge's base URL), or use --score exact|numeric|choice") }
            guard !model.isEmpty else { throw UsageError("missing required option '--model' (the judge's model name)") }
        }
        keyEnv = args[Self.keyEnv]
        rubricName = args[Self.rubric]
        concurrency = try Self.positive(args, Self.concurrency)
        repeats = try Self.positive(args, Self.repeats)
        rpm = args[Self.rpm]
        tpm = args[Self.tpm]
        settings = JudgeSettings(model: model)
        settings.temperature = args[Self.temperature]
        settings.maxTokens = try Self.positive(args, Self.maxTokens)
        settings.maxResamples = args[Self.resamples]
        guard settings.maxResamples >= 0 else { throw UsageError("--resamples must be 0 or more") }
        settings.repairTurn = !args[Self.noRepair]
        retryUnscored = !args[Self.keepUnscored]
        teacherLabel = args[Self.teacher] ?? labels.first
        teacherModel = args[Self.teacherModel]
        baselineLabel = args[Self.baseline]
        for (name, label) in [("teacher", teacherLabel), ("baseline", baselineLabel)] {
            if let label, !labels.contains(label) {
                throw UsageError("--\(name) '\(label)' is not one of the labels: \(labels.joined(separator: ", "))")
            }
        }
        referenceFromTeacher = args[Self.referenceFromTeacher]
    }

    static func positive(_ args: ParsedArguments, _ option: Option<Int>) throws -> Int {
        let v = args[option]
        guard v >= 1 else { throw UsageError("--\(option.name) must be at least 1") }
        return v
    }

    func run() async throws {
        if mode == "judge" {
            try await judge(client: try makeClient())
        } else {
            try scoreByRule()
        }
    }

    /// The libcurl-backed OpenAI-compatible client with the provider's limits, retries and the concurrency cap.
    func makeClient() throws -> any ChatCompleting {
        if let keyEnv, (ProcessInfo.processInfo.environment[keyEnv] ?? "").isEmpty {
            throw UsageError("environment variable \(keyEnv) (from --key-env) is not set; export it with the judge's API key")
        }
        let limits = RateLimiter<ContinuousClock>.Limits(requestsPerMinute: rpm, tokensPerMinute: tpm)
        return try TeacherClient(endpoint: Endpoint(baseURL: endpoint, model: model, keyEnv: keyEnv),
                                 options: .init(limits: limits, maxConcurrent: concurrency))
    }

    /// Judges with `client` (the real one from `run`, or a test's), writes the manifest and the report.
    func judge(client: any ChatCompleting) async throws {
        let rubric = try Rubric.load(rubricName)
        // One judge per folder: another model, endpoint, rubric, prompt or parameter is refused, naming what changed.
        let folder = try RunDirectory.open(outDir, manifest: try JudgeRunManifest(rubric: rubric, settings: settings, endpoint: endpoint))
        defer { folder.close() }
        var run = JudgeRun(inputs: inputs, rubric: rubric, settings: settings, endpoint: endpoint, outDir: outDir)
        run.concurrency = concurrency
        run.repeats = repeats
        run.retryUnscored = retryUnscored
        if let keyEnv, let key = ProcessInfo.processInfo.environment[keyEnv], !key.isEmpty { run.secrets = [key] }
        let progress = ProgressReporter()
        let judging = Task { [run] in try await run.run(client: client) { done, todo in progress.update("judged \(done)/\(todo)") } }
        // A stop signal abandons the requests in flight (they are asked next run); every verdict already received is
        // in the journal, so the same command continues where this one stopped.
        let signals = StopSignals()
        signals.install { sig in
            progress.clear()
            FileHandle.standardError.write(Data(("\ndistill: \(StopSignals.name(sig)): stopping; the verdicts so far are in "
                + "\(outDir)/judgments.jsonl (send it again to quit now)\n").utf8))
            judging.cancel()
        }
        defer { signals.remove() }
        let summary: JudgeRun.Summary
        do {
            summary = try await judging.value
        } catch where signals.signal != nil {
            let sig = signals.signal ?? SIGINT
            progress.finish("judge: stopped by \(StopSignals.name(sig))")
            throw StoppedBySignal(signal: sig, message: "stopped by \(StopSignals.name(sig)); the verdicts so far are in "
                + "\(outDir)/judgments.jsonl (no report yet); run the same command again to continue")
        }
        progress.finish("judged \(summary.scored + summary.unscored + summary.failed) items: \(summary.scored) scored, "
            + "\(summary.unscored) unscored, \(summary.failed) failed (transport); \(summary.alreadyDone) already done; "
            + "reply format \(summary.format.rawValue)")
        try writeManifest(rubric: rubric, format: summary.format.rawValue, judgeModel: model)
        try writeReport()
        if summary.failed > 0 {
            FileHandle.standardError.write(Data("distill: \(summary.failed) items could not be judged (see DIR/judgments.jsonl); rerun the same command to ask them again\n".utf8))
        }
    }

    func scoreByRule() throws {
        guard let ruleMode = AnswerScorer.Mode(rawValue: mode) else { return }
        // The folder's judgments are rewritten: never over another judge's (or rule's) paid verdicts.
        let folder = try RunDirectory.open(outDir, manifest: JudgeRunManifest(
            mode: "rule:\(mode)", endpoint: "", judgeModel: "rule:\(mode)", rubric: "accuracy-\(mode)",
            rubricVersion: AnswerScorer.version, promptSHA256: "", parameters: [:]))
        defer { folder.close() }
        let judgments = try AnswerScorer.judgments(inputs: inputs, mode: ruleMode)
        let data = try judgments.map { String(decoding: try JSONLines.encoder.encode($0), as: UTF8.self) + "\n" }.joined()
        try JSONLines.writeAtomically(Data(data.utf8), to: outDir + "/judgments.jsonl")
        let manifest = try manifest(criteria: [AnswerScorer.criterion], scale: 0...1, rubric: "accuracy-\(mode)", version: AnswerScorer.version,
                                    format: "rule", judgeModel: "rule:\(mode)")
        try manifest.write(to: outDir)
        try writeReport()
    }

    func manifest(criteria: [String], scale: ClosedRange<Int>, rubric: String, version: String, format: String,
                  judgeModel: String) throws -> JudgeManifest {
        let described = try inputs.map { input in
            JudgeManifest.Input(label: input.label, path: input.path, sha256: try SHA256.hex(fileAt: input.path),
                                items: try DatasetReader.read(GenerationRecord.self, from: input.path).count)
        }
        return JudgeManifest(judgeModel: judgeModel, endpoint: Redaction.maskingURLPasswords(endpoint), keyEnv: mode == "judge" ? keyEnv : nil, rubric: rubric,
                             rubricVersion: version, criteria: criteria, scaleMin: scale.lowerBound, scaleMax: scale.upperBound,
                             replyFormat: format, temperature: settings.temperature, repeats: mode == "judge" ? repeats : 1,
                             inputs: described, teacherLabel: teacherLabel, teacherModel: teacherModel, baselineLabel: baselineLabel,
                             referenceFromTeacher: referenceFromTeacher)
    }

    func writeManifest(rubric: Rubric, format: String, judgeModel: String) throws {
        try manifest(criteria: rubric.criterionNames, scale: rubric.scale, rubric: rubric.name, version: rubric.version,
                     format: format, judgeModel: judgeModel).write(to: outDir)
    }

    func writeReport() throws {
        let written = try ReportWriter(directory: outDir).write(to: outDir)
        print(MarkdownReport.resultsOnly(written.summary))
        print("report: \(written.markdown), \(written.html), \(written.csv)")
    }
}
