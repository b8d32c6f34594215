import DistillClient
import DistillData
import Foundation

/// The requests a `--batch` pass collects, kept in a file of the run directory (`batch-pending.jsonl`) instead of in
/// memory, so a pass over millions of items holds no prompts. Per request two lines: the key's fields (as
/// `batch-keys.jsonl` records them) and the line the Batch API's input file gets. In memory: each key's 16-byte
/// digest and byte range. A pass starts it empty; `forEach` reads the requests back in key-id order, a stable order for the uploaded
/// files whatever order the recipe deferred them in.
public final class BatchSpool: @unchecked Sendable {
    public let path: String
    // Guarded by `lock`.
    private let lock = NSLock()
    private let writer: FileHandle
    private var ranges: [KeyDigest: Range<Int>] = [:]
    private var end = 0
    private var writeError: (any Error)?

    /// Creates the spool at `path`, empty (a file left by an interrupted pass is cut to nothing).
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let writer = FileHandle(forWritingAtPath: path) else {
            throw DataError(file: path, "cannot create the batch spool; check that the run directory is writable")
        }
        self.path = path
        self.writer = writer
    }

    deinit { try? writer.close() }

    /// Adds `request` unless its key is already spooled. A failed write (a full disk) is kept and later adds are
    /// dropped: `check()` then refuses the pass, so no batch goes out missing a request.
    func add(_ key: HarvestKey, _ request: ChatRequest) {
        lock.lock(); defer { lock.unlock() }
        let digest = KeyDigest(keyID: key.id)
        guard writeError == nil, ranges[digest] == nil else { return }
        do {
            var bytes = try JSONLines.encoder.encode(HarvestBatchRunner.BatchKey(key))
            bytes.append(0x0A)
            bytes.append(try Self.uploadLine(key, request))
            bytes.append(0x0A)
            try writer.seek(toOffset: UInt64(end))
            try writer.write(contentsOf: bytes)
            ranges[digest] = end..<(end + bytes.count)
            end += bytes.count
        } catch {
            writeError = error
        }
    }

    /// Requests spooled.
    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return ranges.count
    }

    /// Throws when a request could not be spooled.
    public func check() throws {
        lock.lock(); defer { lock.unlock() }
        if let writeError {
            throw DataError(file: path, "a request could not be written for the next batch (\(writeError)); free disk space "
                + "and run the same command again (nothing was submitted)")
        }
    }

    /// Each spooled request in key-id order: its key line and its upload line (neither with a newline).
    func forEach(_ body: (Data, Data) async throws -> Void) async throws {
        let order: [Range<Int>] = {
            lock.lock(); defer { lock.unlock() }
            return ranges.sorted { $0.key < $1.key }.map(\.value)
        }()
        guard let reader = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, "the batch spool vanished during the pass; run the same command again")
        }
        defer { try? reader.close() }
        for range in order {
            try reader.seek(toOffset: UInt64(range.lowerBound))
            guard let data = try reader.read(upToCount: range.count), data.count == range.count, data.last == 0x0A,
                  let newline = data.firstIndex(of: 0x0A), newline < data.endIndex - 1 else {
                throw DataError(file: path, "changed while the pass was using it (another process?); run the same command again")
            }
            try await body(Data(data[data.startIndex..<newline]), Data(data[(newline + 1)..<(data.endIndex - 1)]))
        }
    }

    /// Removes the file (the pass that collects nothing).
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The Batch API input line for one request: `custom_id` = the content key, the chat request as its body.
    static func uploadLine(_ key: HarvestKey, _ request: ChatRequest) throws -> Data {
        let body = try JSONSerialization.jsonObject(with: Data(try ChatWire.encode(request)))
        return try JSONSerialization.data(withJSONObject: ["custom_id": key.id, "method": "POST",
                                                           "url": "/v1/chat/completions", "body": body],
                                          options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
