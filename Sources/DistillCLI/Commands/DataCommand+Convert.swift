import DistillData
import Foundation

/// `distill data convert FILE --to FORMAT --out FILE`.
struct DataConvertCommand: DistillCommand {
    static let to: Option<String?> = .value("to", "FORMAT", help: "output format: " + DatasetFormat.targetNames)
    static let out: Option<String?> = .value("out", "FILE", help: "output file (written atomically; '-' for stdout; a symlink or device is written through)")
    static let from: Option<String> = .value("from", "FORMAT", default: "auto",
                   help: "input format (\(DatasetFormat.names)), or auto to detect it from the first item")
    static let system: Option<String?> = .value("system", "TEXT", help: "add this system turn to conversations that have none (chat outputs)")

    static let spec = CommandSpec(
        name: "convert",
        abstract: "convert among Alpaca JSON/JSONL, chat JSONL, OpenAI fine-tuning chat and ShareGPT; read MC and reasoning items",
        usage: "FILE --to FORMAT --out FILE [--from FORMAT] [--system TEXT]",
        discussion: """
        Formats: alpaca-json  [{"instruction","input","output"}, …]
                 alpaca-jsonl {"instruction","input","output"} per line
                 chat-jsonl   {"messages":[{"role","content"}, …]} per line
                 openai-chat  OpenAI fine-tuning: messages with roles system (optional), user, assistant
                 sharegpt     {"conversations":[{"from":"human"|"gpt"|"system","value"}, …]} per line
                 trl-prompt-completion  {"prompt":[turns…],"completion":[{"role":"assistant",…}]} per line (TRL SFT)
                 dpo          {"prompt":[…],"chosen":[…],"rejected":[…]} per line (TRL DPO; from preference only)
        Read only (--from, or detected; never --to):
                 mc           {"id","question","choices":[{"label","text"}, …],"answer"} per line, or CommonsenseQA's
                              {"id","question":{"stem","choices"},"answerKey"}
                 reasoning    {"id","kind","question","answer"} per line (distill data synth writes these)
                 cot, counterfactual, critique-revise, preference: harvest's cot.jsonl, counterfactual.jsonl,
                              critique-revise.jsonl and preferences.jsonl (the reply is the rationale with its
                              answer, the explanation, the revision, the chosen reply)
        Every harvest output converts to every target. Rows that are not training data are dropped and counted:
        "truncated": true (cut off at max_tokens), an empty reply, no assistant turn, a cot path with a wrong answer.
        An mc item becomes instruction = the question, a blank line, the choices one per line ("A. text"), a blank
        line and "\(QuestionItemMapping.englishChoiceRequest)" (in Chinese when the question is), output = the gold
        letter. A reasoning item becomes instruction = the question, output = the gold answer. The item's id is kept
        in Alpaca and ShareGPT outputs. After distill generate, score these with distill judge --score choice (mc),
        --score numeric (integer answers) or --score exact (dates, weekdays).
        Alpaca → chat: the user turn is the instruction, plus a blank line and the input when there is one; a
        "system" field becomes the system turn. Chat → Alpaca splits the user turn at its first blank line, so
        the round trip is exact unless an instruction itself contains a blank line (convert warns about those).
        Multi-turn chats cannot become Alpaca (an error names the line).
        """,
        options: [
            to,
            out,
            from,
            system,
        ],
        examples: """
              distill data convert my.json --to openai-chat --out ft.jsonl
              distill data convert runs/crit/preferences.jsonl --to dpo --out dpo.jsonl   # TRL DPO pairs from critique-revise
            """)

    let file: String
    let converter: DatasetConverter
    let out: String

    init(_ args: ParsedArguments) throws {
        file = try DataCommand.inputFile(args)
        func format(_ name: String, oneOf choices: String = DatasetFormat.names) throws(UsageError) -> DatasetFormat {
            guard let f = DatasetFormat(rawValue: name) else {
                throw UsageError("unknown format '\(name)'; one of: \(choices)")
            }
            return f
        }
        let to = try format(try args.required(Self.to), oneOf: DatasetFormat.targetNames)
        guard !to.isSourceOnly else {
            throw UsageError("--to \(to.rawValue): '\(to.rawValue)' can only be read (converted from), not written; "
                + "--to takes one of: \(DatasetFormat.targetNames)")
        }
        let fromName = args[Self.from]
        let from = fromName == "auto" ? nil : try format(fromName)
        out = try args.required(Self.out)
        guard out != file || out == "-" else { throw UsageError("--out must differ from the input file") }
        if args[Self.system] != nil, to.isAlpaca {
            throw UsageError("--system applies to chat outputs; Alpaca keeps a system prompt in its \"system\" field")
        }
        converter = DatasetConverter(from: from, to: to, system: args[Self.system])
    }

    func run() async throws {
        let signals = StopSignals()
        signals.install(onStop: nil)  // a signal removes the half-written temporary and exits 128+signal
        defer { signals.remove() }
        var converter = converter
        converter.progress = ProgressReporter()
        let s = try converter.convert(input: try DataCommand.readable(file), output: out)
        if !s.lossyLines.isEmpty {
            let shown = s.lossyLines.prefix(10).map { "\(file):\($0)" }.joined(separator: ", ")
            DistillCLI.printError("warning: \(s.lossyLines.count) item(s) have a blank line inside the instruction, "
                + "so converting back to Alpaca would move part of it into the input: \(shown)"
                + (s.lossyLines.count > 10 ? ", …" : ""))
        }
        var line = "\(s.items) items: \(s.from.rawValue) → \(s.to.rawValue) → \(out == "-" ? "stdout" : out)"
        if !s.dropped.isEmpty {
            line += "; dropped \(s.dropped.values.reduce(0, +)): "
                + s.dropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        if out == "-" { DistillCLI.printError(line) } else { DataCommand.out(line + "\n") }
    }
}
