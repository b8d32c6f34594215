import DistillData
import Foundation

/// Reads judgments (a judge folder or journal files), builds the summary and writes `report.md`, `report.html`,
/// `report.csv`, `leaderboard.csv` and `summary.json`. Never calls the judge: a report can always be rebuilt from the journal.
public struct ReportWriter: Sendable {
    public var judgmentFiles: [String]
    public var manifest: JudgeManifest?
    public var teacherLabel: String?
    public var baselineLabel: String?
    public var bootstrap = Bootstrap()
    public var title = "Evaluation report"

    public init(judgmentFiles: [String], manifest: JudgeManifest?) {
        self.judgmentFiles = judgmentFiles
        self.manifest = manifest
        teacherLabel = manifest?.teacherLabel
        baselineLabel = manifest?.baselineLabel
    }

    /// A judge folder: its `judgments.jsonl` and manifest.
    public init(directory: String) throws {
        let journal = directory + "/judgments.jsonl"
        guard FileManager.default.fileExists(atPath: journal) else {
            throw DataError(file: journal, "no judgments here; run 'distill judge --out \(directory) …' first, or pass --inputs FILES")
        }
        self.init(judgmentFiles: [journal], manifest: try JudgeManifest.read(from: directory))
    }

    /// Every complete line of every file; a torn last line (a crash mid-write) is skipped, anything else malformed is an error.
    public func loadJudgments() throws -> [Judgment] {
        let decoder = JSONDecoder()
        var out: [Judgment] = []
        var origins: [(file: String, judgment: Judgment)] = []
        var scales = JudgmentScaleLookup(manifest: manifest)
        for path in judgmentFiles {
            let start = out.count
            defer { origins += out[start...].map { (path, $0) } }
            for line in try JSONLinesReader(checking: path) where line.complete {
                let j: Judgment
                do {
                    j = try decoder.decode(Judgment.self, from: line.bytes)
                } catch {
                    throw DataError(file: path, line: line.number, "not a judgment line: \(JSONLines.describe(error))")
                }
                if let scale = scales.scale(for: j) { try j.checkScores(in: scale, file: path, line: line.number) }
                out.append(j)
            }
        }
        try Self.checkOneRubric(origins)
        return out
    }

    public func summary(of judgments: [Judgment]) -> EvaluationSummary {
        var criteria = manifest?.criteria ?? []
        if criteria.isEmpty {
            // No manifest: the criteria are the keys the judgments carry, in first-seen order of a sorted scan.
            for j in judgments { for c in (j.scores ?? j.partialScores ?? [:]).keys.sorted() where !criteria.contains(c) { criteria.append(c) } }
        }
        let allScores = judgments.flatMap { ($0.scores ?? [:]).values }
        let scale = manifest.map { $0.scaleMin...$0.scaleMax } ?? (min(0, allScores.min() ?? 0)...max(1, allScores.max() ?? 5))
        var b = SummaryBuilder(criteria: criteria, scale: scale, manifest: manifest)
        b.teacherLabel = teacherLabel
        b.baselineLabel = baselineLabel
        b.bootstrap = bootstrap
        var s = b.build(judgments)
        s.warnings += Self.judgeWarnings(judgments)
        return s
    }

    public struct Written: Sendable {
        public var markdown: String
        public var html: String
        public var csv: String
        public var json: String
        /// One row per model, best first.
        public var leaderboard: String = ""
        public var summary: EvaluationSummary
    }

    /// Writes the four files into `outDir` (created if needed) and returns their paths with the summary.
    public func write(to outDir: String) throws -> Written {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let judgments = try loadJudgments()
        guard !judgments.isEmpty else { throw DataError(file: judgmentFiles.first ?? outDir, "no judgments to report on") }
        let s = summary(of: judgments)
        let w = Written(markdown: outDir + "/report.md", html: outDir + "/report.html", csv: outDir + "/report.csv",
                        json: outDir + "/summary.json", leaderboard: outDir + "/leaderboard.csv", summary: s)
        try JSONLines.writeAtomically(Data(MarkdownReport.render(s, title: title).utf8), to: w.markdown)
        try JSONLines.writeAtomically(Data(HTMLReport.render(s, judgments: judgments, title: title).utf8), to: w.html)
        try JSONLines.writeAtomically(Data(CSVReport.render(judgments, criteria: s.criteria).utf8), to: w.csv)
        try JSONLines.writeAtomically(Data(LeaderboardCSV.render(s).utf8), to: w.leaderboard)
        let encoder = JSONLines.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try JSONLines.writeAtomically(try encoder.encode(s), to: w.json)
        return w
    }
}
