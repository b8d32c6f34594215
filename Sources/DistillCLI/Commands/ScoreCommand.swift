import DistillData
import DistillML
import Foundation

/// `distill score`: how likely a model finds given answers (the teacher's, held out) — per item, in nats per token.
struct ScoreCommand: DistillCommand {
    static let data: Option<String?> = .value("data", "FILE", help: "items with an instruction, optional input and the answer to score")
    static let field: Option<String?> = .value("field", "NAME", help: "the answer's field (default: output, else reference_output)")
    static let out: Option<String?> = .value("out", "FILE", help: "per-item scores (JSONL, written atomically)")
    static let batch: Option<Int> = .value("batch", "N", default: 8, help: "items per forward pass")
    static let threads: Option<Int?> = .value("threads", "N", help: "CPU threads (default: all cores)")
    static let exact: Option<Bool> = .flag("exact", help: "fp32 arithmetic (default: the model's fastest precision)")

    static let spec = CommandSpec(
        name: "score",
        abstract: "log-likelihood of reference answers under a model (nats per token; lower = closer to them)",
        usage: "--model M --data FILE --out FILE [options]",
        discussion: """
        Each item's prompt (instruction, a blank line, input) goes through the model's chat template; its answer
        (--field, default: output, else reference_output) is scored token by token, the end-of-turn token included,
        so a model is also judged on stopping where the answer stops. Writes one line per item in input order:
        {"index","instruction","tokens","nll","nll_per_token"}, and prints the token-weighted mean and perplexity.
        Scoring the teacher's held-out answers under a student before and after training measures distillation
        without sampling or a judge; 'distill score compare' gives confidence intervals and the gap closed.

        Examples:
          distill score --model runs/demo/student.gguf --data runs/demo/harvest-test/answer.jsonl --out before.jsonl
          distill score compare teacher.jsonl before.jsonl after.jsonl --labels teacher before after --out compare.md
        """,
        options: [
            ModelOptions.model,
            data,
            field,
            out,
            batch,
            threads,
            exact,
        ],
        subcommands: [ScoreCompareCommand.self],
        examples: """
              distill score --model smollm2-135m --data datasets/demo-test.jsonl --out runs/score/base.jsonl
              distill score --model runs/demo/student.gguf --data runs/demo/harvest-test/answer.jsonl --out runs/score/after.jsonl
              distill score compare runs/score/base.jsonl runs/score/after.jsonl --labels base after --baseline base
            """)

    let model: String
    let data: String
    let field: String?
    let out: String
    let batch: Int
    let threads: Int
    let exact: Bool

    init(_ args: ParsedArguments) throws {
        model = args[ModelOptions.model]
        data = try args.required(Self.data)
        out = try args.required(Self.out)
        field = args[Self.field]
        batch = args[Self.batch]
        threads = args[Self.threads] ?? ProcessInfo.processInfo.activeProcessorCount
        exact = args[Self.exact]
        guard (1...256).contains(batch), threads > 0 else { throw UsageError("--batch must be 1 to 256 and --threads positive") }
    }

    struct Line: Codable {
        var index: Int
        var instruction: String
        var tokens: Int
        var nll: Double
        var nllPerToken: Double
        enum CodingKeys: String, CodingKey {
            case index, instruction, tokens, nll
            case nllPerToken = "nll_per_token"
        }
    }

    func run() async throws {
        try EngineCPU.check()
        Parallel.configureBLAS(threads: threads)
        var texts: [(instruction: String, prompt: String, answer: String)] = []
        try DatasetReader(path: data).forEachValue { row in
            let item = row.value
            guard let instruction = item["instruction"]?.stringValue else {
                throw DataError(file: data, line: row.line, field: "instruction", "missing; every item needs an instruction")
            }
            let fields = field.map { [$0] } ?? ["output", "reference_output"]
            guard let answer = fields.lazy.compactMap({ item[$0]?.stringValue }).first, !answer.isEmpty else {
                throw DataError(file: data, line: row.line, field: fields.joined(separator: " or "),
                                "no answer to score; pass --field NAME for the answer's field")
            }
            let input = item["input"]?.stringValue ?? ""
            texts.append((instruction, input.isEmpty ? instruction : instruction + "\n\n" + input, answer))
        }
        guard !texts.isEmpty else { throw DataError(file: data, "no items to score") }
        let lm = try LanguageModel(path: try ModelStore.resolve(model), precision: exact ? .exact : .fastest)
        let end = lm.endTokens.min().map { [$0] } ?? []
        let items = texts.map { t in
            SequenceScorer.Item(prompt: lm.chatPrompt([(role: "user", content: t.prompt)]),
                                answer: lm.tokenizer.encode(t.answer, addSpecial: false) + end)
        }
        let progress = ProgressReporter()
        var lines: [Data] = []
        var total = 0.0, tokens = 0
        let scorer = SequenceScorer(model: lm.model, batch: batch)
        for start in stride(from: 0, to: items.count, by: batch) {
            let group = Array(items[start..<min(items.count, start + batch)])
            for (k, lps) in try scorer.logprobs(group).enumerated() {
                let nll = -lps.reduce(0.0) { $0 + Double($1) }
                total += nll
                tokens += lps.count
                let i = start + k
                lines.append(try JSONLines.encoder.encode(
                    Line(index: i, instruction: texts[i].instruction, tokens: lps.count, nll: nll, nllPerToken: nll / Double(lps.count))))
            }
            progress.update("score: \(min(items.count, start + batch))/\(items.count) items")
        }
        try JSONLines.writeAtomically(Data(lines.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n").utf8 + [0x0A]),
                                      to: out)
        let mean = total / Double(max(1, tokens))
        progress.finish(String(format: "score: %d items, %d tokens: %.4f nats/token (perplexity %.2f) → %@",
                               items.count, tokens, mean, exp(mean), out))
    }
}
