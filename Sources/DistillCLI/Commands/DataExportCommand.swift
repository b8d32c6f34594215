import DistillData
import DistillML
import Foundation

/// `distill data export`: the objectives' training samples for trainers beyond one machine — TRL and LLaMA-Factory
/// datasets of the multitask / counterfactual / icl items, and axolotl-style KD rows of harvested top-k logprobs.
struct DataExportCommand: DistillCommand {
    static let data: Option<[String]> = .list("data", "FILE", help: "harvest files")
    static let to: Option<String?> = .value("to", "FORMAT", help: "trl, llama-factory or axolotl-kd")
    static let out: Option<String?> = .value("out", "FILE", help: "output JSONL")
    static let model: Option<String> = .value("model", "M", default: ModelStore.defaultName, help: "axolotl-kd: the student whose tokenizer ids are written")
    static let maxSeq: Option<Int> = .value("max-seq", "N", default: 2048, help: "axolotl-kd: longest row in tokens")

    static let spec = CommandSpec(
        name: "export",
        abstract: "write objective samples as TRL / LLaMA-Factory datasets, top-k logprobs as KD rows",
        usage: "--data FILE… --to trl|llama-factory|axolotl-kd --out FILE [--loss multitask|counterfactual|icl] [--model M]",
        discussion: """
        trl: one row per sample in TRL's conversational prompt-completion form, {"prompt": [user turn],
        "completion": [assistant turn], "task": term} (the loss goes on the completion only, as distill trains it).
        llama-factory: Alpaca rows {"instruction", "input": "", "output", "task"} for LLaMA-Factory's alpaca format.
        Both take the same --loss and objective options as distill train (--alpha etc. are recorded by the term
        name in "task"; weigh the tasks in the trainer). SCOTT's answer-only grading has no equivalent in either
        format and is refused.
        axolotl-kd: rows tokenised with --model's tokenizer and chat template: input_ids, attention_mask, labels
        (−100 off the reply), and per position j target_token_ids[j] / target_logprobs[j] / target_mask[j], the
        teacher's top-k for input_ids[j+1] (training.md §2.6's alignment; positions without a matched teacher token
        have mask 0). From harvest answer rows with logprobs.
        """,
        options: [
            data,
            to,
            out,
            model,
            maxSeq,
        ] + TrainObjective.options,
        examples: """
              distill data export --data runs/cot/cot.jsonl --loss multitask --to trl --out trl.jsonl
              distill data export --data runs/cf/counterfactual.jsonl --loss counterfactual --to llama-factory --out lf.jsonl
            """)

    let data: [String]
    let to: String
    let out: String
    let model: String
    let maxSeq: Int
    let objective: TrainObjective

    init(_ args: ParsedArguments) throws {
        data = args[Self.data]
        guard !data.isEmpty else { throw UsageError("missing required option '--data' (harvest files)") }
        to = try args.required(Self.to)
        guard ["trl", "llama-factory", "axolotl-kd"].contains(to) else {
            throw UsageError("--to: '\(to)' is not trl, llama-factory or axolotl-kd")
        }
        out = try args.required(Self.out)
        model = args[Self.model]
        maxSeq = args[Self.maxSeq]
        guard maxSeq >= 2 else { throw UsageError("--max-seq must be at least 2") }
        objective = try TrainObjective(args)
        if to != "axolotl-kd" {
            guard objective.dataSettings != nil else { throw UsageError("--to \(to) needs --loss multitask, counterfactual or icl") }
            if objective.loss == .counterfactual, objective.counterfactualForm == .scott {
                throw UsageError("--to \(to): SCOTT's answer-only loss cannot be expressed in that format; use --counterfactual-form input")
            }
        }
    }

    func run() async throws {
        var body = Data()
        var rows = 0
        func add(_ v: JSONValue) {
            body.append(v.compactData())
            body.append(0x0A)
            rows += 1
        }
        if let settings = objective.dataSettings, to != "axolotl-kd" {
            let d = try ObjectiveData.build(files: data, settings: settings)
            for item in d.items {
                let user = item.conversation.messages.first?.content ?? "", reply = item.conversation.messages.last?.content ?? ""
                let task = JSONValue.string(d.termNames[item.term])
                if to == "trl" {
                    add(.object([.init("prompt", .array([Self.turn("user", user)])), .init("completion", .array([Self.turn("assistant", reply)])),
                                 .init("task", task)]))
                } else {
                    add(.object([.init("instruction", .string(user)), .init("input", .string("")), .init("output", .string(reply)),
                                 .init("task", task)]))
                }
            }
        } else {
            let (_, tokenizer) = try ModelFiles.load(try ModelStore.resolve(model))
            let (d, _, _) = try TopKData.load(files: data, tokenizer: TrainingTokenizer(tokenizer: tokenizer, maxSequence: maxSeq))
            for e in d.examples {
                let n = e.tokens.count
                let k = e.teacherTopK?.values.map(\.ids.count).max() ?? 1
                var ids: [JSONValue] = [], lps: [JSONValue] = [], mask: [JSONValue] = []
                for j in 0..<n {
                    // Row j: the teacher's distribution over token j+1 (the last row is padding).
                    let entry = j + 1 < n && e.isTarget[j + 1] ? e.teacherTopK?[j + 1] : nil
                    let row = (0..<k).map { i -> (Int32, Float, Int) in
                        guard let entry, i < entry.ids.count else { return (0, -1e4, 0) }
                        return (entry.ids[i], entry.logprobs[i], 1)
                    }
                    ids.append(.array(row.map { .number("\($0.0)") }))
                    lps.append(.array(row.map { .number("\($0.1)") }))
                    mask.append(.array(row.map { .number("\($0.2)") }))
                }
                let labels = (0..<n).map { e.isTarget[$0] ? JSONValue.number("\(e.tokens[$0])") : .number("-100") }
                add(.object([.init("input_ids", .array(e.tokens.map { .number("\($0)") })),
                             .init("attention_mask", .array([JSONValue](repeating: .number("1"), count: n))),
                             .init("labels", .array(labels)), .init("target_token_ids", .array(ids)),
                             .init("target_logprobs", .array(lps)), .init("target_mask", .array(mask))]))
            }
            DistillCLI.printError(String(format: "top-k: %d of %d reply tokens matched a teacher token (mismatch %.1f%%)",
                                         d.matched, d.positions, 100 * d.mismatchRate))
        }
        try AtomicFile.write(body, to: out)
        DataCommand.out("\(rows) rows → \(to) → \(out)\n")
    }

    static func turn(_ role: String, _ content: String) -> JSONValue {
        .object([.init("role", .string(role)), .init("content", .string(content))])
    }
}
