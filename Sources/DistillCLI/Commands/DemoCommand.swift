import DistillData
import DistillML
import Foundation

/// `distill demo`: the whole loop offline on the embedded model — a real teacher behind `distill serve`, a student
/// pruned from it, trained on what the teacher answered, and measured before and after on held-out answers.
struct DemoCommand: DistillCommand {
    static let out: Option<String> = .value("out", "DIR", default: "runs/demo", help: "the demo's folder")
    static let datasets: Option<String> = .value("datasets", "DIR", default: "datasets", help: "folder with demo-train.jsonl and demo-test.jsonl")
    static let model: Option<String> = .value("model", "M", default: ModelStore.defaultName, help: "the teacher (and the model the student is cut from)")
    static let lora: Option<Bool> = .flag("lora", help: "train a LoRA adapter instead of every weight")
    static let epochs: Option<Int> = .value("epochs", "N", default: 2, help: "passes over the teacher's answers (2: about 7 minutes on 2 quiet cores, 62% of the gap closed; 1: about 4 minutes, 53%)")
    static let lr: Option<String?> = .value("lr", "X", help: "peak learning rate (default: the trainer's for full or LoRA)")
    static let keepEvery: Option<Int> = .value("keep-every", "K", default: 2, help: "the student keeps every K-th layer of the teacher")
    static let maxTokens: Option<Int> = .value("max-tokens", "N", default: 128, help: "longest teacher answer")
    static let printPipeline: Option<Bool> = .flag("print", help: "print the pipeline file and exit")

    static let spec = CommandSpec(
        name: "demo",
        abstract: "the whole loop offline on the embedded SmolLM2-135M-Instruct",
        usage: "[--out DIR] [--datasets DIR] [--model M] [options]",
        discussion: """
        Runs a pipeline (written to OUT/pipeline.json; 'distill run' runs it too) that needs no network:
          1. distill serve puts the teacher (SmolLM2-135M-Instruct) behind the OpenAI protocol on loopback;
          2. harvest asks it for greedy answers to DATASETS/demo-train.jsonl and demo-test.jsonl (held out);
          3. prune makes a half-depth student (every second layer of the teacher);
          4. score measures how likely teacher, student-before and student-after find the teacher's held-out
             answers (nats per token; lower = closer to the teacher), 'score compare' adds bootstrap 95% CIs,
             the paired difference after − before and the share of the teacher gap closed;
          5. train fine-tunes the student on the teacher's training answers (full fine-tuning, --lora for an adapter).
        Resumable: run it again and finished stages are skipped; the table is at OUT/compare.md.

        Examples:
          distill demo
          distill demo --epochs 1 --out runs/demo-1-epoch
          distill run runs/demo/pipeline.json --from train
        """,
        options: [
            out,
            datasets,
            model,
            lora,
            epochs,
            lr,
            keepEvery,
            maxTokens,
            printPipeline,
        ],
        examples: """
              distill demo
              distill demo --lora --epochs 3 --out runs/demo-lora
              distill demo --print
            """)

    let out: String
    let datasets: String
    let model: String
    let lora: Bool
    let epochs: Int
    let lr: String?
    let keepEvery: Int
    let maxTokens: Int
    let printOnly: Bool

    init(_ args: ParsedArguments) throws {
        out = args[Self.out]
        datasets = args[Self.datasets]
        model = args[Self.model]
        lora = args[Self.lora]
        epochs = args[Self.epochs]
        lr = args[Self.lr]
        keepEvery = args[Self.keepEvery]
        maxTokens = args[Self.maxTokens]
        printOnly = args[Self.printPipeline]
        guard epochs > 0, keepEvery > 1, maxTokens > 0 else {
            throw UsageError("--epochs and --max-tokens must be positive and --keep-every at least 2")
        }
        if let lr, Double(lr) == nil { throw UsageError("--lr wants a number, got '\(lr)'") }
    }

    /// The demo as a pipeline file: one JSON text, so `distill run` can re-run or change any stage of it.
    func pipeline() -> String {
        func q(_ s: String) -> String {
            String(decoding: (try? JSONLines.encoder.encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        let train = lora ? #""lora": true"# : #""full": true"#
        let rate = lr.map { #", "lr": \#($0)"# } ?? ""
        let harvest = #""teacher": "${services.teacher.url}", "model": "teacher", "temperature": 0, "max-tokens": \#(maxTokens), "concurrency": 16"#
        return """
        {
          "pipeline": "demo",
          "description": "distill SmolLM2-135M-Instruct into a half-depth student of itself, offline",
          "vars": {"teacher_model": \(q(model)), "datasets": \(q(datasets))},
          "services": {
            "teacher": {"command": "serve", "options": {"model": "teacher=${teacher_model}"}}
          },
          "stages": [
            {"name": "harvest-train", "command": "harvest", "needs": ["teacher"],
             "options": {"recipe": "answer", "data": "${datasets}/demo-train.jsonl", \(harvest)}},
            {"name": "harvest-test", "command": "harvest", "needs": ["teacher"],
             "options": {"recipe": "answer", "data": "${datasets}/demo-test.jsonl", \(harvest)}},
            {"name": "student", "command": "prune", "options": {"model": "${teacher_model}", "keep-every": \(keepEvery)}},
            {"name": "score-teacher", "command": "score", "options": {"model": "${teacher_model}", "data": "@harvest-test/answer.jsonl"}},
            {"name": "score-before", "command": "score", "options": {"model": "@student", "data": "@harvest-test/answer.jsonl"}},
            {"name": "train", "command": "train",
             "options": {"model": "@student", "data": ["@harvest-train/answer.jsonl"], \(train), "epochs": \(epochs)\(rate),
                         "max-seq": 256, "batch": 4, "export": ["gguf-f32"], "seed": 0}},
            {"name": "score-after", "command": "score", "options": {"model": "@train/model-f32.gguf", "data": "@harvest-test/answer.jsonl"}},
            {"name": "compare", "command": "score compare",
             "args": ["@score-teacher", "@score-before", "@score-after"],
             "options": {"labels": ["teacher", "student-before", "student-after"], "teacher": "teacher", "baseline": "student-before"}}
          ]
        }

        """
    }

    func run() async throws {
        let text = pipeline()
        if printOnly {
            print(text, terminator: "")
            return
        }
        for f in ["demo-train.jsonl", "demo-test.jsonl"] where !FileManager.default.fileExists(atPath: datasets + "/" + f) {
            throw DataError(file: datasets + "/" + f, "missing; run the demo from the repository root or pass --datasets DIR")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = out + "/pipeline.json"
        try JSONLines.writeAtomically(Data(text.utf8), to: path)
        try await RunCommand(path: path, out: out, options: PipelineRunner.Options()).run()
        if let table = FileManager.default.contents(atPath: out + "/compare.md") {
            FileHandle.standardError.write(Data("\nHow likely each model finds the teacher's held-out answers:\n\n".utf8) + table)
        }
    }
}
