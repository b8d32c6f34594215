import DistillClient
import DistillData
import DistillHTTP
import Foundation

/// `--batch`: the same recipe, with its requests sent through the OpenAI Batch API (half price, 24 h window).
///
/// A pass runs the recipe against the journal in batch mode: every request not yet recorded is collected instead of
/// sent. The collected requests go out as batch files (≤ 50,000 lines and ≤ 200 MB each, `custom_id` = content key),
/// whose ids are saved in `batches.json` before polling starts, so a crashed harvester resumes polling instead of
/// paying twice. Finished batches are merged by `custom_id` into the journal (error lines into failures.jsonl);
/// whatever an expired, failed or cancelled batch did not return is simply collected again by the next pass.
/// Multi-stage recipes take one pass per stage. The pass that collects nothing writes the outputs.
public struct HarvestBatchRunner: Sendable {
    /// One submitted batch, as saved in `batches.json`.
    struct Submitted: Codable {
        var id: String
        var inputFileID: String
        var requests: Int
        var status: String
        /// Set once the batch's output and error files were merged into the journal.
        var merged: Bool
    }

    public static let maxLines = 50_000
    public static let maxBytes = 200 * 1024 * 1024

    let api: BatchAPI
    let directory: HarvestRunDirectory
    let pollInterval: Duration
    let maxPasses: Int
    let log: @Sendable (String) -> Void

    public init(endpoint: Endpoint, http: any HTTPSending, directory: HarvestRunDirectory, pollInterval: Duration = .seconds(60),
                maxPasses: Int = 20, environment: [String: String] = ProcessInfo.processInfo.environment,
                log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        api = try BatchAPI(endpoint: endpoint, http: http, environment: environment)
        self.directory = directory
        self.pollInterval = pollInterval
        self.maxPasses = maxPasses
        self.log = log
    }

    var statePath: String { directory.path + "/batches.json" }
    var keysPath: String { directory.path + "/batch-keys.jsonl" }
    var spoolPath: String { directory.path + "/batch-pending.jsonl" }

    /// Runs `recipe` to completion through batches and writes its outputs; returns the rows written per file.
    public func run(_ recipe: any HarvestRecipe, options: HarvestSession.Options, sync: SyncPolicy = .flush) async throws -> [String: Int] {
        let journal = try HarvestJournal(directory: directory.path, sync: sync)
        var state = try loadState()
        for pass in 1...maxPasses {
            try await finishOutstanding(&state, journal: journal)
            var batchOptions = options
            let spool = try BatchSpool(path: spoolPath)
            batchOptions.deferTo = spool
            // Rows stream to temporaries as in a plain run; only the pass that collects nothing keeps them.
            let writer = HarvestOutputWriter(directory: directory.path)
            let session = HarvestSession(client: NeverSends(), journal: journal, options: batchOptions, output: writer)
            let files: [String: [Data]]
            do {
                files = try await recipe.run(session)
                try spool.check()
            } catch {
                writer.discard()
                throw error
            }
            if spool.count == 0 {
                spool.remove()
                let counts = try writer.finish(returned: files, in: directory)
                log("batch harvest complete after \(pass) pass(es): \(journal.count) requests in the journal")
                return counts
            }
            writer.discard()
            log("pass \(pass): \(spool.count) requests to send as batches")
            try await submit(spool, state: &state)
        }
        throw HarvestError(.stopped, "batches still leave requests unanswered after \(maxPasses) passes; "
            + "run the same command again to continue (batches.json keeps the state)")
    }

    private func loadState() throws -> [Submitted] {
        guard let data = FileManager.default.contents(atPath: statePath) else { return [] }
        do {
            return try JSONDecoder().decode([Submitted].self, from: data)
        } catch {
            throw DataError(file: statePath, "not a batch state file (\(JSONLines.describe(error))); move it away to start the batches over")
        }
    }

    private func save(_ state: [Submitted]) throws {
        let encoder = JSONLines.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        try JSONLines.writeAtomically(try encoder.encode(state), to: statePath)
    }

    /// Writes the batch input files from the spool and creates the batches, saving each id the moment it exists.
    private func submit(_ spool: BatchSpool, state: inout [Submitted]) async throws {
        let keyLog = try JSONLinesAppender(path: keysPath)
        var chunk = Data()
        var lines = 0
        func flush() async throws {
            guard lines > 0 else { return }
            let fileID = try await api.upload(chunk, filename: "distill-\(directory.manifest.fingerprint.prefix(12))-\(state.count + 1).jsonl")
            let batch = try await api.create(inputFileID: fileID, metadata: ["distill_run": directory.manifest.fingerprint])
            state.append(Submitted(id: batch.id, inputFileID: fileID, requests: lines, status: batch.status, merged: false))
            try save(state)
            log("submitted batch \(batch.id) (\(lines) requests)")
            chunk = Data()
            lines = 0
        }
        try await spool.forEach { keyLine, line in
            try keyLog.append(keyLine)
            if lines + 1 > Self.maxLines || chunk.count + line.count + 1 > Self.maxBytes { try await flush() }
            chunk.append(line)
            chunk.append(0x0A)
            lines += 1
        }
        try await flush()
    }

    /// Polls every unmerged batch until it ends, then merges its output and error files into the journal.
    private func finishOutstanding(_ state: inout [Submitted], journal: HarvestJournal) async throws {
        let keys = loadKeys()
        for i in state.indices where !state[i].merged {
            var batch = try await api.retrieve(state[i].id)
            while !batch.isTerminal {
                try await Task.sleep(for: pollInterval)
                batch = try await api.retrieve(state[i].id)
            }
            var answered = 0
            if let output = batch.outputFileID {
                answered += try merge(try await api.content(output), keys: keys, journal: journal)
            }
            if let errors = batch.errorFileID {
                answered += try merge(try await api.content(errors), keys: keys, journal: journal)
            }
            state[i].status = batch.status
            state[i].merged = true
            try save(state)
            log("batch \(batch.id) \(batch.status): \(answered) of \(state[i].requests) requests came back"
                + (answered < state[i].requests ? "; the rest go into the next batch" : ""))
        }
    }

    /// Merges batch output lines by `custom_id`: 200s into the journal, other statuses into failures.
    private func merge(_ file: Data, keys: [String: HarvestKey], journal: HarvestJournal) throws -> Int {
        var count = 0
        for line in file.split(separator: 0x0A) where !line.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let customID = object["custom_id"] as? String, let key = keys[customID] else { continue }
            guard !journal.contains(customID) else { continue }
            count += 1
            let response = object["response"] as? [String: Any]
            let status = response?["status_code"] as? Int ?? 0
            if status == 200, let body = response?["body"],
               let bytes = try? JSONSerialization.data(withJSONObject: body), let chat = try? ChatWire.decode(Array(bytes)) {
                try journal.record(HarvestJournalEntry(key: key, response: RecordedResponse(chat)))
            } else {
                let error = (object["error"] as? [String: Any])?["message"] as? String
                    ?? ((response?["body"] as? [String: Any])?["error"] as? [String: Any])?["message"] as? String ?? "no body"
                try journal.recordFailure(HarvestFailure(key: key, reason: "batch line status \(status): \(error)"))
            }
        }
        return count
    }

    private func loadKeys() -> [String: HarvestKey] {
        var keys: [String: HarvestKey] = [:]
        for line in JSONLinesReader(path: keysPath) where line.complete {
            if let k = try? JSONDecoder().decode(BatchKey.self, from: line.bytes) {
                keys[k.key] = HarvestKey(item: k.item, stage: k.stage, sample: k.sample, promptHash: k.promptHash, paramsHash: k.paramsHash)
            }
        }
        return keys
    }

    /// A submitted key's fields, so a batch output line can be journaled under its full key.
    struct BatchKey: Codable {
        var key, item, stage: String
        var sample: Int
        var promptHash, paramsHash: String

        init(_ k: HarvestKey) {
            key = k.id
            item = k.item
            stage = k.stage
            sample = k.sample
            promptHash = k.promptHash
            paramsHash = k.paramsHash
        }
    }
}
