import DistillClient
import DistillData
import Foundation

/// The run's memory: `journal.jsonl` (one line per completed request) and `failures.jsonl` (requests that failed for
/// good). Append-only; a line is written with one write(2) (and fsync under `--fsync`) before the request counts as
/// done, so a process killed at any moment loses at most the request in flight. A torn last line left by a crash is
/// dropped on open and that request is redone.
///
/// Memory holds an index, not the replies: each key as 16 bytes with where its line lies in the file (about 64 bytes
/// a request, whatever the replies' length); a reply is read back from the file when a resumed request asks for it.
public final class HarvestJournal: @unchecked Sendable {
    /// Where an entry's line lies in `journal.jsonl` (without its newline).
    struct Location {
        var offset: Int
        var length: Int
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var index: [KeyDigest: Location] = [:]
    private var failures: [String: HarvestFailure] = [:]
    /// Serialises appends, so each line's offset is known; guards `end`.
    private let appendLock = NSLock()
    private var end: Int
    private let journal: JSONLinesAppender
    private let failureLog: JSONLinesAppender
    /// Read side of `journal.jsonl`, for pread(2) of recorded replies.
    private let reader: FileHandle

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
        guard let reader = FileHandle(forReadingAtPath: journalPath) else {
            throw DataError(file: journalPath, "cannot open for reading")
        }
        self.reader = reader
        let decoder = JSONDecoder()
        let path = journalPath
        var loaded: [KeyDigest: Location] = [:]
        var size = 0
        try Self.forEachLine(path) { offset, number, bytes in
            do {
                let e = try decoder.decode(HarvestJournalEntry.self, from: bytes)
                loaded[KeyDigest(keyID: e.key)] = Location(offset: offset, length: bytes.count)
            } catch {
                throw DataError(file: path, line: number,
                                "damaged journal line (\(JSONLines.describe(error))); the run cannot trust this file — "
                                + "move the line out (its request will be redone) or start a new run with --new")
            }
            size = offset + bytes.count + 1
        }
        index = loaded
        end = max(size, Self.fileSize(path) ?? size)
        for line in JSONLinesReader(path: failuresPath) where line.complete {
            if let f = try? decoder.decode(HarvestFailure.self, from: line.bytes) { failures[f.key] = f }
        }
        loadedCount = index.count
    }

    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Calls `body` with every non-blank line's byte offset, 1-based number and bytes (no newline), reading the file
    /// a megabyte at a time. A last line without a newline is skipped (the appender repairs such a tail on open).
    static func forEachLine(_ path: String, _ body: (Int, Int, Data) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        var buffer = Data()
        var base = 0  // file offset of buffer's first byte
        var number = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw DataError(file: path, "read failed: \(error.localizedDescription)")
            }
            if chunk.isEmpty { return }
            buffer.append(chunk)
            var start = buffer.startIndex
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                number += 1
                let line = buffer[start..<newline]
                if line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) {
                    try body(base + (start - buffer.startIndex), number, Data(line))
                }
                start = newline + 1
            }
            base += start - buffer.startIndex
            buffer = Data(buffer[start...])
        }
    }

    /// Reads and decodes the line at `location`.
    private func read(_ location: Location) throws -> HarvestJournalEntry {
        var bytes = Data(count: location.length)
        let got = bytes.withUnsafeMutableBytes { raw in
            pread(reader.fileDescriptor, raw.baseAddress, location.length, off_t(location.offset))
        }
        guard got == location.length else {
            throw DataError(file: journalPath, "cannot read back a recorded reply at byte \(location.offset) "
                + "(\(got < 0 ? FileChecks.cause(errno) : "the file is shorter")); was the journal changed while the run was going?")
        }
        do { return try JSONDecoder().decode(HarvestJournalEntry.self, from: bytes) } catch {
            throw DataError(file: journalPath, "damaged journal line at byte \(location.offset) (\(JSONLines.describe(error))); "
                + "was the journal changed while the run was going?")
        }
    }

    /// Whether a request with this key was completed in this or an earlier run.
    public func contains(_ keyID: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return index[KeyDigest(keyID: keyID)] != nil
    }

    /// The recorded response for `key`, if the request was completed in this or an earlier run (read back from the
    /// file; nil also when the file cannot be read back).
    public func entry(_ keyID: String) -> HarvestJournalEntry? {
        try? recorded(keyID)
    }

    /// The recorded response for `key`, if the request was completed; throws when the line cannot be read back (the
    /// journal was changed under the run), so the caller fails the item rather than pay for the request again.
    public func recorded(_ keyID: String) throws -> HarvestJournalEntry? {
        let location: Location? = { lock.lock(); defer { lock.unlock() }; return index[KeyDigest(keyID: keyID)] }()
        return try location.map { try read($0) }
    }

    /// The recorded failure for `key`, unless a later attempt succeeded.
    public func failure(_ keyID: String) -> HarvestFailure? {
        lock.lock(); defer { lock.unlock() }
        return index[KeyDigest(keyID: keyID)] == nil ? failures[keyID] : nil
    }

    /// Appends the entry (durably, per the sync policy), then makes it visible.
    public func record(_ entry: HarvestJournalEntry) throws {
        let line = try JSONLines.encoder.encode(entry)
        let location: Location = try {
            appendLock.lock(); defer { appendLock.unlock() }
            do {
                try journal.append(line)
            } catch {
                end = Self.fileSize(journalPath) ?? end  // a partial write moved the end
                throw error
            }
            defer { end += line.count + 1 }
            return Location(offset: end, length: line.count)
        }()
        lock.lock(); defer { lock.unlock() }
        index[KeyDigest(keyID: entry.key)] = location
    }

    public func recordFailure(_ failure: HarvestFailure) throws {
        try failureLog.append(json: failure)
        lock.lock(); defer { lock.unlock() }
        failures[failure.key] = failure
    }

    /// Calls `body` on every entry, in file order, one at a time (read from the file; a key recorded twice is given
    /// once, as its last line). Throws when the file cannot be read, or what `body` throws.
    public func forEachEntry(_ body: (HarvestJournalEntry) throws -> Void) throws {
        let decoder = JSONDecoder()
        let limit: Int = { appendLock.lock(); defer { appendLock.unlock() }; return end }()
        try Self.forEachLine(journalPath) { offset, _, bytes in
            guard offset < limit, let e = try? decoder.decode(HarvestJournalEntry.self, from: bytes) else { return }
            let current: Bool = { lock.lock(); defer { lock.unlock() }; return index[KeyDigest(keyID: e.key)]?.offset == offset }()
            if current { try body(e) }
        }
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
        failures = failures.filter { index[KeyDigest(keyID: $0.key)] == nil }
    }

    /// Failures not later made good.
    public var outstandingFailures: [HarvestFailure] {
        lock.lock(); defer { lock.unlock() }
        return failures.values.filter { index[KeyDigest(keyID: $0.key)] == nil }.sorted { $0.at < $1.at }
    }

    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return index.count
    }
}
