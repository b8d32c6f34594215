import DistillClient
import DistillData
import Foundation

/// The run's memory: `journal.jsonl` (one line per completed request) and `failures.jsonl` (requests that failed for
/// good). Append-only; a line is written with one write(2) (and fsync under `--fsync`) before the request counts as
/// done, so a process killed at any moment loses at most the request in flight. A torn last line left by a crash is
/// dropped on open and that request is redone.
public final class HarvestJournal: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var entries: [String: HarvestJournalEntry] = [:]
    private var failures: [String: HarvestFailure] = [:]
    private let journal: JSONLinesAppender
    private let failureLog: JSONLinesAppender

    public let journalPath: String
    public let failuresPath: String
    /// Bytes of a torn last line dropped from the journal on open (0 when it ended cleanly).
    public let repairedBytes: Int
    /// Entries found on open.
    public let loadedCount: Int

    public init(directory: String, sync: SyncPolicy = .flush) throws {
        journalPath = directory + "/journal.jsonl"
        failuresPath = directory + "/failures.jsonl"
        // Opening the appenders first truncates torn tails, so the reads below see only whole lines.
        journal = try JSONLinesAppender(path: journalPath, sync: sync)
        failureLog = try JSONLinesAppender(path: failuresPath, sync: sync)
        repairedBytes = journal.repairedBytes
        let decoder = JSONDecoder()
        for line in JSONLinesReader(path: journalPath) where line.complete {
            do {
                let e = try decoder.decode(HarvestJournalEntry.self, from: line.bytes)
                entries[e.key] = e
            } catch {
                throw DataError(file: journalPath, line: line.number,
                                "damaged journal line (\(JSONLines.describe(error))); the run cannot trust this file — "
                                + "move the line out (its request will be redone) or start a new run with --new")
            }
        }
        for line in JSONLinesReader(path: failuresPath) where line.complete {
            if let f = try? decoder.decode(HarvestFailure.self, from: line.bytes) { failures[f.key] = f }
        }
        loadedCount = entries.count
    }

    /// The recorded response for `key`, if the request was completed in this or an earlier run.
    public func entry(_ keyID: String) -> HarvestJournalEntry? {
        lock.lock(); defer { lock.unlock() }
        return entries[keyID]
    }

    /// The recorded failure for `key`, unless a later attempt succeeded.
    public func failure(_ keyID: String) -> HarvestFailure? {
        lock.lock(); defer { lock.unlock() }
        return entries[keyID] == nil ? failures[keyID] : nil
    }

    /// Appends the entry (durably, per the sync policy), then makes it visible.
    public func record(_ entry: HarvestJournalEntry) throws {
        try journal.append(json: entry)
        lock.lock(); defer { lock.unlock() }
        entries[entry.key] = entry
    }

    public func recordFailure(_ failure: HarvestFailure) throws {
        try failureLog.append(json: failure)
        lock.lock(); defer { lock.unlock() }
        failures[failure.key] = failure
    }

    /// Every entry, in no particular order.
    public var allEntries: [HarvestJournalEntry] {
        lock.lock(); defer { lock.unlock() }
        return Array(entries.values)
    }

    /// Calls `body` on every entry, in no particular order, without copying the table.
    public func forEachEntry(_ body: (HarvestJournalEntry) -> Void) {
        lock.lock(); defer { lock.unlock() }
        for e in entries.values { body(e) }
    }

    /// Rewrites `failures.jsonl` to hold only the failures not later made good (after `--retry-failed` succeeded,
    /// the file would otherwise still list requests that are now in the journal). Call when no request is in flight.
    public func rewriteFailures() throws {
        let outstanding = outstandingFailures
        let total: Int = { lock.lock(); defer { lock.unlock() }; return failures.count }()
        guard outstanding.count < total else { return }
        var data = Data()
        for f in outstanding {
            data.append(try JSONLines.encoder.encode(f))
            data.append(0x0A)
        }
        try JSONLines.writeAtomically(data, to: failuresPath)
        lock.lock(); defer { lock.unlock() }
        failures = failures.filter { entries[$0.key] == nil }
    }

    /// Failures not later made good.
    public var outstandingFailures: [HarvestFailure] {
        lock.lock(); defer { lock.unlock() }
        return failures.values.filter { entries[$0.key] == nil }.sorted { $0.at < $1.at }
    }

    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.count
    }
}
