import DistillData
import DistillClient
import Foundation

/// One model's generations to judge: a label for the report and the seed-000-format file.
public struct JudgeInput: Codable, Sendable, Equatable {
    public var label: String
    public var path: String
    public init(label: String, path: String) {
        self.label = label
        self.path = path
    }
}

/// A whole judging run: every item of every input, `repeats` times, journaled to `outDir/judgments.jsonl`.
///
/// Resuming is re-running: items whose key already has a `scored` or (unless `retryUnscored`) `unscored` line are
/// skipped; `failed` lines (transport errors) are always asked again. The key covers the judge model, endpoint, rubric
/// version, decoding settings, model label, item position, repeat and the item's text, so a changed input or rubric
/// is judged afresh instead of silently reusing old verdicts.
public struct JudgeRun: Sendable {
    public var inputs: [JudgeInput]
    public var rubric: Rubric
    public var settings: JudgeSettings
    /// Base URL of the judge endpoint (part of the cache key; never a key or secret).
    public var endpoint: String
    public var outDir: String
    public var concurrency: Int = 4
    public var repeats: Int = 1
    public var retryUnscored: Bool = true
    /// Strings that must never reach a file (the API key's value), removed from error text.
    public var secrets: [String] = []

    public init(inputs: [JudgeInput], rubric: Rubric, settings: JudgeSettings, endpoint: String, outDir: String) {
        self.inputs = inputs
        self.rubric = rubric
        self.settings = settings
        self.endpoint = endpoint
        self.outDir = outDir
    }

    public var journalPath: String { outDir + "/judgments.jsonl" }

    public struct Summary: Sendable, Equatable {
        public var total = 0
        public var alreadyDone = 0
        public var scored = 0
        public var unscored = 0
        public var failed = 0
        public var format: ReplyFormatMode = .jsonSchema
    }

    struct WorkItem: Sendable {
        var key: String
        var label: String
        var index: Int
        var repeatIndex: Int
        var record: GenerationRecord
    }

    /// Reads every input first, so a bad file fails before any request is made.
    func workItems() throws -> [WorkItem] {
        var out: [WorkItem] = []
        for input in inputs {
            let records = try DatasetReader.read(GenerationRecord.self, from: input.path)
            for (i, r) in records.enumerated() {
                for rep in 0..<repeats {
                    out.append(WorkItem(key: key(label: input.label, index: i, repeatIndex: rep, record: r),
                                        label: input.label, index: i, repeatIndex: rep, record: r))
                }
            }
        }
        return out
    }

    func key(label: String, index: Int, repeatIndex: Int, record: GenerationRecord) -> String {
        let parts: [String] = [
            "judge-v1", settings.model, endpoint, rubric.version, String(settings.temperature), String(settings.maxTokens),
            label, String(index), String(repeatIndex),
            record.instruction, record.input, record.referenceOutput, record.generateOutput,
        ]
        // Length-prefixed so no two different part lists hash the same text.
        return SHA256.hex(parts.map { "\($0.utf8.count):\($0)" }.joined())
    }

    /// Keys already settled in the journal.
    func settledKeys() throws -> Set<String> {
        guard FileManager.default.fileExists(atPath: journalPath) else { return [] }
        var settled: Set<String> = []
        let decoder = JSONDecoder()
        for line in JSONLinesReader(path: journalPath) where line.complete {
            guard let j = try? decoder.decode(Judgment.self, from: line.bytes) else {
                throw DataError(file: journalPath, line: line.number, "not a judgment line; move the file away to start afresh")
            }
            if j.status == .scored || (j.status == .unscored && !retryUnscored) { settled.insert(j.key) }
        }
        return settled
    }

    /// Judges everything not yet settled; `progress` is called after each item with (done, todo).
    public func run(client: any ChatCompleting, progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Summary {
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let all = try workItems()
        let settled = try settledKeys()
        let todo = all.filter { !settled.contains($0.key) }
        let journal = try JSONLinesAppender(path: journalPath)
        let negotiator = ReplyFormatNegotiator()
        let judge = ItemJudge(client: client, rubric: rubric, settings: settings, negotiator: negotiator)
        var summary = Summary(total: all.count, alreadyDone: all.count - todo.count)

        try await withThrowingTaskGroup(of: Judgment.self) { group in
            var next = 0
            func launch() {
                let item = todo[next]
                next += 1
                group.addTask { try await self.judgeOne(item, judge: judge) }
            }
            while next < min(max(1, concurrency), todo.count) { launch() }
            var done = 0
            while let j = try await group.next() {
                try journal.append(json: j)
                switch j.status {
                case .scored: summary.scored += 1
                case .unscored: summary.unscored += 1
                case .failed: summary.failed += 1
                }
                done += 1
                progress?(done, todo.count)
                if next < todo.count { launch() }
            }
        }
        summary.format = await negotiator.mode
        return summary
    }

    /// Judges one item. Thrown: cancellation (the item is simply not journaled and is asked next run) and errors that
    /// stop the run; any other failure becomes a `failed` line, asked again next run.
    private func judgeOne(_ item: WorkItem, judge: ItemJudge) async throws -> Judgment {
        var j = Judgment(key: item.key, model: item.label, item: item.index, repeatIndex: item.repeatIndex, status: .failed,
                         scores: nil, partialScores: nil, reason: nil, step: nil, problems: [], attempts: [], error: nil,
                         instruction: item.record.instruction, input: item.record.input,
                         referenceOutput: item.record.referenceOutput, generateOutput: item.record.generateOutput,
                         judgeModel: settings.model, rubric: rubric.name, rubricVersion: rubric.version, time: "",
                         category: item.record.category)
        do {
            let o = try await judge.judge(item.record, repeatIndex: item.repeatIndex)
            j.status = o.status
            j.scores = o.status == .scored ? o.scores : nil
            j.partialScores = o.status == .unscored && !o.scores.isEmpty ? o.scores : nil
            j.reason = o.reason
            j.step = o.step
            j.problems = o.problems
            j.attempts = o.attempts
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as TeacherError where Self.stopsTheRun(error) {
            throw error
        } catch {
            try Task.checkCancellation()
            j.status = .failed
            j.error = redact(String(describing: error))
            j.problems = [VerdictProblem(.transport, "the judge could not be reached: \(j.error ?? "")")]
        }
        j.time = ISO8601DateFormatter().string(from: Date())
        return j
    }

    /// Errors every later request would hit too (no credit, no key, key refused): stop instead of failing each item.
    static func stopsTheRun(_ error: TeacherError) -> Bool {
        switch error.kind {
        case .insufficientQuota, .missingKey: true
        case .http(let status): status == 401 || status == 403
        default: false
        }
    }

    private func redact(_ text: String) -> String {
        secrets.filter { $0.count >= 4 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
    }
}
