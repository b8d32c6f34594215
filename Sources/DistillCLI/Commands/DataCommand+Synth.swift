import DistillData
import Foundation

/// `distill data synth --kind K --n N --seed S --out FILE`.
struct DataSynthCommand: DistillCommand {
    static let kind: Option<String> = .value("kind", "KIND", default: "mixed", help: "arithmetic, date or mixed")
    static let n: Option<Int> = .value("n", "N", default: 200, help: "number of items")
    static let seed: Option<String> = .value("seed", "S", default: "1", help: "random seed (an unsigned integer)")
    static let out: Option<String?> = .value("out", "FILE", help: "output file (JSONL, or a JSON array for a .json name)")

    static let spec = CommandSpec(
        name: "synth",
        abstract: "generate reasoning questions with gold answers (arithmetic, dates)",
        usage: "--out FILE [--kind arithmetic|date|mixed] [--n N] [--seed S]",
        discussion: """
        Multi-step arithmetic word problems and date arithmetic ("What date is 45 days after 2024-02-10?"),
        some in Chinese, as {"id","kind","question","answer"} lines. Answers are integers, YYYY-MM-DD dates or
        weekday names, so chain-of-thought answers can be checked exactly. Same seed, same items, on any machine.
        """,
        options: [
            kind,
            n,
            seed,
            out,
        ],
        examples: """
              distill data synth --kind mixed --n 200 --seed 1 --out r.jsonl
              distill data synth --kind arithmetic --n 50 --out arithmetic.jsonl
            """)

    let kind: ReasoningItemGenerator.Kind
    let count: Int
    let seed: UInt64
    let out: String

    init(_ args: ParsedArguments) throws {
        let k = args[Self.kind]
        guard let kind = ReasoningItemGenerator.Kind(rawValue: k) else {
            throw UsageError("unknown kind '\(k)'; one of: arithmetic, date, mixed")
        }
        self.kind = kind
        count = args[Self.n]
        guard count > 0 else { throw UsageError("--n must be at least 1") }
        let s = args[Self.seed]
        guard let seed = UInt64(s) else { throw UsageError("--seed wants an unsigned integer, got '\(s)'") }
        self.seed = seed
        out = try args.required(Self.out)
    }

    func run() async throws {
        let signals = StopSignals()
        signals.install(onStop: nil)  // a signal removes the half-written temporary and exits 128+signal
        defer { signals.remove() }
        var generator = ReasoningItemGenerator(seed: seed)
        let writer = try DatasetWriter(path: out)
        for _ in 0..<count { try writer.append(generator.next(kind)) }
        try writer.finish()
        DataCommand.out("\(count) \(kind.rawValue) items (seed \(seed)) → \(out)\n")
    }
}
