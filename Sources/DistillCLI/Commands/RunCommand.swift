import DistillData
import Foundation

/// `distill run FILE`: every stage of the loop from one pipeline file (see `PipelineFile` for the format).
struct RunCommand: DistillCommand {
    static let out: Option<String?> = .value("out", "DIR", help: "the pipeline's folder (default: the file's \"out\", else runs/NAME)")
    static let from: Option<String?> = .value("from", "STAGE", help: "run this stage and the ones after it (earlier ones must be done)")
    static let only: Option<String?> = .value("only", "STAGE", help: "run only this stage")
    static let dryRun: Option<Bool> = .flag("dry-run", help: "say what would run and why, with the harvest cost estimate; run nothing")

    static let spec = CommandSpec(
        name: "run",
        abstract: "run every stage from one pipeline file",
        usage: "PIPELINE.json [--out DIR] [--from STAGE | --only STAGE] [--dry-run]",
        discussion: """
        A pipeline file lists stages, each one distill command with its options ("command": "train", "options":
        {"lora-r": 16, …}); "vars" holds values used as ${NAME} (the teacher URL: change one line to use another
        teacher); "services" are commands the pipeline starts and stops (distill serve as a local teacher), used as
        ${services.NAME.url}; "@STAGE" or "@STAGE/file" is another stage's output. Each stage runs in its own folder
        OUT/STAGE (OUT/STAGE.jsonl for generate, OUT/STAGE.gguf for prune).

        Each stage is fingerprinted (its options, the content of its input files, its services, and the stages it
        uses): an unchanged stage is skipped, a changed one re-runs — saying what changed, the old output moved
        aside — and so does every stage after it that uses it; an interrupted stage resumes. Unknown keys and options
        are errors naming the line, found before anything runs. Ctrl-C stops the running stage cleanly (exit 130);
        a failed stage stops the pipeline (exit 1).

        Examples:
          distill run pipelines/seed000.json
          distill run pipelines/seed001-cot.json --dry-run
          distill run pipelines/seed000.json --from generate-ce
        """,
        options: [
            out,
            from,
            only,
            dryRun,
        ],
        examples: """
              distill run scripts/pipelines/seed000-embedded.json
              distill run scripts/pipelines/seed001-cot.json --dry-run   # what would run and why, with the harvest cost estimate
              distill run scripts/pipelines/seed002-explanations.json --from train
            """)

    let path: String
    let out: String?
    let options: PipelineRunner.Options

    init(path: String, out: String?, options: PipelineRunner.Options) {
        self.path = path
        self.out = out
        self.options = options
    }

    init(_ args: ParsedArguments) throws {
        guard let p = try args.positionals(max: 1).first else { throw UsageError("give the pipeline file: distill run FILE") }
        path = p
        out = args[Self.out]
        options = PipelineRunner.Options(from: args[Self.from], only: args[Self.only], dryRun: args[Self.dryRun])
        if options.from != nil && options.only != nil { throw UsageError("give --from or --only, not both") }
    }

    func run() async throws {
        let file = try PipelineFile(path: path)
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let folder = out ?? file.out ?? "runs/\(stem)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let lock = try RunLock.acquire(folder + "/.pipeline.lock", purpose: "pipeline \(folder)")
        defer { lock.release() }
        let plan = PipelinePlan(file: file, out: folder, serviceURLs: try ServiceSet.urls(for: file))
        var runner = PipelineRunner(plan: plan, options: options) { line in
            FileHandle.standardError.write(Data("run: \(line)\n".utf8))
        }
        let code = try await runner.run()
        if code != 0 { throw PipelineStopped(code: code) }
    }
}

/// The pipeline stopped early: a stage failed (1) or was interrupted (130).
struct PipelineStopped: ExitCodeError {
    let code: Int32
    var exitCode: Int32 { code }
    var description: String {
        code == 130 ? "pipeline stopped; run the same command to resume" : "pipeline stopped at a failed stage"
    }
}
