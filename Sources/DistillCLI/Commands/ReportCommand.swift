import DistillData
import DistillJudge
import Foundation

/// `distill report`: rebuilds the Markdown, HTML and CSV report from judgments, without calling any judge.
struct ReportCommand: DistillCommand {
    static let inputs: Option<[String]> = .list("inputs", "FILE", help: "judgment files instead of a judge folder")
    static let out: Option<String?> = .value("out", "DIR", help: "where to write the report (default: DIR, or the first input's folder)")
    static let teacher: Option<String?> = .value("teacher", "LABEL", help: "the teacher's label, for retention (default: from the manifest)")
    static let baseline: Option<String?> = .value("baseline", "LABEL", help: "label to measure gap closed against (default: from the manifest)")
    static let title: Option<String> = .value("title", "TEXT", default: "Evaluation report", help: "report title")
    static let resamples: Option<Int> = .value("resamples", "N", default: 10000, help: "bootstrap resamples for the confidence intervals")
    static let seed: Option<Int> = .value("seed", "N", default: 20240601, help: "bootstrap seed (same judgments and seed give the same report)")

    static let spec = CommandSpec(
        name: "report",
        abstract: "Markdown, HTML and CSV report from judgments",
        usage: "DIR | --inputs JUDGMENTS.jsonl … [--out DIR] [options]",
        discussion: """
        DIR is a folder written by 'distill judge' (judgments.jsonl and judge-manifest.json). With --inputs, any
        judgment files are combined (e.g. two judge runs over different models). Writes report.md, report.html
        (self-contained: inline SVG charts and a per-item drill-down with a filter), report.csv (one row per judgment),
        leaderboard.csv (one row per model) and summary.json. Same judgments and --seed give the same bytes.
        Judgments from two rubrics are refused (a report compares one rubric): report each rubric on its own.
        """,
        options: [
            inputs,
            out,
            teacher,
            baseline,
            title,
            resamples,
            seed,
        ],
        examples: """
              distill report runs/judge                     # report.md, report.html, report.csv, leaderboard.csv in runs/judge
              distill report --inputs runs/judge-a/judgments.jsonl runs/judge-b/judgments.jsonl --out runs/report --title "CE vs KL"
            """)

    var directory: String?
    var files: [String]
    var outDir: String
    var teacher: String?
    var baseline: String?
    var title: String
    var bootstrap: Bootstrap

    init(_ args: ParsedArguments) throws {
        let positionals = try args.positionals(max: 1)
        directory = positionals.first
        files = args[Self.inputs]
        guard (directory == nil) != files.isEmpty else {
            throw UsageError(directory == nil ? "give a judge folder (DIR) or --inputs FILES" : "give either DIR or --inputs, not both")
        }
        outDir = args[Self.out] ?? directory ?? URL(fileURLWithPath: files[0]).deletingLastPathComponent().path
        teacher = args[Self.teacher]
        baseline = args[Self.baseline]
        title = args[Self.title]
        let resamples = args[Self.resamples]
        guard resamples >= 100 else { throw UsageError("--resamples must be at least 100") }
        let seed = args[Self.seed]
        guard seed >= 0 else { throw UsageError("--seed must be a non-negative integer") }
        bootstrap = Bootstrap(resamples: resamples, seed: UInt64(seed))
    }

    func run() async throws {
        var writer: ReportWriter
        if let directory {
            writer = try ReportWriter(directory: directory)
        } else {
            let manifestDir = URL(fileURLWithPath: files[0]).deletingLastPathComponent().path
            writer = ReportWriter(judgmentFiles: files, manifest: try JudgeManifest.read(from: manifestDir))
        }
        if let teacher { writer.teacherLabel = teacher }
        if let baseline { writer.baselineLabel = baseline }
        writer.title = title
        writer.bootstrap = bootstrap
        let written = try writer.write(to: outDir)
        print(MarkdownReport.resultsOnly(written.summary))
        print("report: \(written.markdown), \(written.html), \(written.csv), \(written.leaderboard), \(written.json)")
    }
}
