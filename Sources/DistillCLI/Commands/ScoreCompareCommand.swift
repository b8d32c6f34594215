import DistillData
import DistillJudge
import Foundation

/// `distill score compare`: models side by side on the same scored items, with bootstrap CIs, paired differences
/// against a baseline and the share of the teacher gap closed.
struct ScoreCompareCommand: DistillCommand {
    static let labels: Option<[String]> = .list("labels", "L", help: "one label per file (default: file names)")
    static let teacher: Option<String?> = .value("teacher", "L", help: "the teacher's label (default: the first)")
    static let baseline: Option<String?> = .value("baseline", "L", help: "the label to compare against (default: the second)")
    static let out: Option<String?> = .value("out", "FILE", help: "write the Markdown table here too")
    static let seed: Option<Int> = .value("seed", "N", default: 20240601, help: "bootstrap seed (same files and seed, same table)")

    static let spec = CommandSpec(
        name: "compare",
        abstract: "compare 'distill score' files: mean nats/token with 95% CIs, paired differences, gap closed",
        usage: "SCORES.jsonl… --labels L… [--teacher L] [--baseline L] [--out FILE.md]",
        discussion: """
        Every file must score the same items (same order, same instructions). Per model: the mean over items of
        nats per token with a bootstrap 95% CI. Against the baseline: the paired difference (model − baseline; below
        zero is better) with its CI, and the gap closed, (baseline − model) / (baseline − teacher).
        """,
        options: [
            labels,
            teacher,
            baseline,
            out,
            seed,
        ],
        examples: """
              distill score compare teacher.jsonl before.jsonl after.jsonl --labels teacher before after --baseline before
              distill score compare teacher.jsonl before.jsonl after.jsonl --labels teacher before after --out runs/compare.md
            """)

    let files: [String]
    let labels: [String]
    let teacher: String
    let baseline: String
    let out: String?
    let seed: UInt64

    init(_ args: ParsedArguments) throws {
        files = args.positionals
        guard files.count >= 2 else { throw UsageError("give at least two score files") }
        let given = args[Self.labels]
        guard given.isEmpty || given.count == files.count else {
            throw UsageError("--labels needs one label per file (\(files.count))")
        }
        labels = given.isEmpty ? files.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension } : given
        teacher = args[Self.teacher] ?? labels[0]
        baseline = args[Self.baseline] ?? labels[1]
        for l in [teacher, baseline] where !labels.contains(l) {
            throw UsageError("'\(l)' is not one of the labels: \(labels.joined(separator: ", "))")
        }
        out = args[Self.out]
        let s = args[Self.seed]
        guard s >= 0 else { throw UsageError("--seed must be ≥ 0") }
        seed = UInt64(s)
    }

    func run() async throws {
        var columns: [[Double]] = []
        var instructions: [String] = []
        for file in files {
            let lines = try JSONLines.decodeAll(ScoreCommand.Line.self, from: file)
            if columns.isEmpty {
                instructions = lines.map(\.instruction)
            } else if lines.map(\.instruction) != instructions {
                throw DataError(file: file, "scores different items than \(files[0]); score the same data with each model")
            }
            guard !lines.isEmpty else { throw DataError(file: file, "no scored items") }
            columns.append(lines.map(\.nllPerToken))
        }
        let text = Self.table(labels: labels, columns: columns, teacher: teacher, baseline: baseline,
                              bootstrap: Bootstrap(seed: seed))
        print(text, terminator: "")
        if let out { try JSONLines.writeAtomically(Data(text.utf8), to: out) }
    }

    /// The Markdown table (also used by `distill demo`).
    static func table(labels: [String], columns: [[Double]], teacher: String, baseline: String, bootstrap: Bootstrap) -> String {
        let t = labels.firstIndex(of: teacher) ?? 0, b = labels.firstIndex(of: baseline) ?? 1
        let teacherMean = Descriptive.mean(columns[t]), baseMean = Descriptive.mean(columns[b])
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        var s = "| model | nats/token (95% CI) | perplexity | vs \(baseline): difference (95% CI) | gap closed |\n"
        s += "|---|---|---|---|---|\n"
        for (i, label) in labels.enumerated() {
            let m = bootstrap.meanInterval(columns[i])
            var diff = "—", gap = "—"
            if i != b {
                let d = bootstrap.pairedDifferenceInterval(columns[i], columns[b])
                diff = "\(f(d.estimate)) [\(f(d.low)), \(f(d.high))]"
                if i != t, abs(baseMean - teacherMean) > 1e-12 {
                    gap = String(format: "%.0f%%", 100 * (baseMean - m.estimate) / (baseMean - teacherMean))
                }
            }
            s += "| \(label) | \(f(m.estimate)) [\(f(m.low)), \(f(m.high))] | \(String(format: "%.2f", exp(m.estimate))) | \(diff) | \(gap) |\n"
        }
        s += "\n\(columns[0].count) items; lower is better. Differences are paired per item (model − \(baseline)); "
            + "a CI that excludes 0 is a difference the items support. Gap closed: (\(baseline) − model) / (\(baseline) − \(teacher)).\n"
        return s
    }
}
