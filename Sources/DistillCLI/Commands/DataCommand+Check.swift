import DistillData
import Foundation

/// `distill data check FILE…`.
struct DataCheckCommand: DistillCommand {
    static let kind: Option<String> = .value("kind", "KIND", default: "auto", help: "record kind to check against, or auto to detect it from the first item")
    static let fixMojibake: Option<String?> = .value("fix-mojibake", "OUT", help: "also write a copy with double-encoded text repaired (one input file only)")
    static let maxProblems: Option<Int> = .value("max-problems", "N", default: 50, help: "problems listed per file before the rest are only counted (0: all)")

    static let spec = CommandSpec(
        name: "check",
        abstract: "check schema, encoding (invalid UTF-8, mojibake), duplicates and empty outputs",
        usage: "FILE… [--kind KIND] [--fix-mojibake OUT]",
        discussion: """
        Prints each problem as file:line: field 'x': … (the first --max-problems per file, then a count of the rest
        by kind) and exits 1 if there is any, 0 if the files are clean.
        Mojibake is UTF-8 text that was read as Windows-1252 and saved again ("ä¸­æ–‡" for "中文");
        --fix-mojibake writes a repaired copy (JSONL, or a JSON array for a .json name).
        Kinds: alpaca, chat, mc (multiple choice), generation, rationale, reasoning.
        """,
        options: [
            kind,
            fixMojibake,
            maxProblems,
        ],
        examples: """
              distill data check datasets/instructions.jsonl datasets/reasoning.jsonl
              distill data check scraped.jsonl --fix-mojibake fixed.jsonl
            """)

    /// The error that makes `check` exit 1 after printing what it found.
    struct ProblemsFound: Error, CustomStringConvertible {
        var count: Int
        var files: Int
        var description: String { "check found \(count) problem(s) in \(files) file(s)" }
    }

    let files: [String]
    let kind: DatasetChecker.Kind?
    let fixOut: String?
    let maxProblems: Int

    init(_ args: ParsedArguments) throws {
        files = args.positionals
        guard !files.isEmpty else { throw UsageError("needs at least one dataset file") }
        let k = args[Self.kind]
        if k == "auto" {
            kind = nil
        } else {
            guard let parsed = DatasetChecker.Kind(rawValue: k) else {
                throw UsageError("unknown kind '\(k)'; one of: auto, "
                    + DatasetChecker.Kind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            kind = parsed
        }
        maxProblems = args[Self.maxProblems]
        guard maxProblems >= 0 else { throw UsageError("--max-problems must not be negative") }
        fixOut = args[Self.fixMojibake]
        if fixOut != nil, files.count != 1 { throw UsageError("--fix-mojibake works on one input file at a time") }
        if let fixOut, files.contains(fixOut) { throw UsageError("--fix-mojibake must name a new file, not the input") }
    }

    func run() async throws {
        let signals = StopSignals()
        signals.install(onStop: nil)  // a signal removes the half-written temporary and exits 128+signal
        defer { signals.remove() }
        var total = 0, withProblems = 0
        for file in files {
            // Problems are printed as they are found, buffered a little: a broken multi-GB file streams through.
            var pending = ""
            var listed = 0
            var checker = DatasetChecker(kind: kind, keep: 0)
            checker.progress = ProgressReporter()
            let report = try checker.check(path: try DataCommand.readable(file), fixMojibakeTo: fixOut) { problem in
                guard maxProblems == 0 || listed < maxProblems else { return }
                listed += 1
                pending += problem.description + "\n"
                if pending.utf8.count > 1 << 16 {
                    DataCommand.out(pending)
                    pending = ""
                }
            }
            if listed < report.total {
                pending += "… and \(report.total - listed) more problem(s) not listed (--max-problems 0 lists all)\n"
            }
            let counts = report.counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
            pending += "\(file): \(report.items) items (\(report.kind?.rawValue ?? "unknown kind")), "
                + (report.total == 0 ? "no problems" : "\(report.total) problem(s): " + counts.joined(separator: ", "))
                + "\n"
            if let fixOut { pending += "wrote \(fixOut) with double-encoded text repaired\n" }
            DataCommand.out(pending)
            total += report.total
            if report.total > 0 { withProblems += 1 }
        }
        if total > 0 { throw ProblemsFound(count: total, files: withProblems) }
    }
}
