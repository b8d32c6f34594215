import Foundation

/// Streams a JSONL file line by line without loading it whole (multi-GB files are normal).
/// Yields each non-empty line with its 1-based line number. A last line with no newline is reported as
/// `complete == false`, so journals can drop a line torn by a crash instead of failing on it.
public struct JSONLinesReader: Sequence {
    public struct Line: Sendable {
        public var number: Int
        public var bytes: Data
        public var complete: Bool
    }

    public let path: String
    private let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
    }

    public func makeIterator() -> Iterator { Iterator(path: path, chunkSize: chunkSize) }

    /// A reader that first checks `path` is a readable regular file, so a missing file, a directory or a file
    /// without read permission is an error naming the path and the cause (the plain initialiser yields no lines).
    public init(checking path: String, chunkSize: Int = 1 << 20) throws {
        try FileChecks.requireReadableFile(path)
        self.init(path: path, chunkSize: chunkSize)
    }

    /// Linear in the file's size however long its lines are: each byte is searched for a newline once (the search
    /// resumes where the last chunk ended) and consumed lines are dropped only when they fill half the buffer.
    public struct Iterator: IteratorProtocol {
        private let handle: FileHandle?
        private let chunkSize: Int
        private var buffer: [UInt8] = []
        private var start = 0
        /// Bytes before this index (from `start`) hold no newline.
        private var scanned = 0
        private var eof = false
        private var lineNumber = 0

        init(path: String, chunkSize: Int) {
            handle = FileHandle(forReadingAtPath: path)
            self.chunkSize = Swift.max(chunkSize, 1)
        }

        private func newline(from i: Int) -> Int? {
            guard i < buffer.count else { return nil }
            return buffer.withUnsafeBytes { raw -> Int? in
                guard let base = raw.baseAddress, let hit = memchr(base + i, 0x0A, raw.count - i) else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
        }

        private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
            line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        }

        public mutating func next() -> Line? {
            guard let handle else { return nil }
            while true {
                if let nl = newline(from: Swift.max(start, scanned)) {
                    lineNumber += 1
                    var end = nl
                    let lineStart = start
                    start = nl + 1
                    scanned = start
                    if end > lineStart, buffer[end - 1] == 0x0D { end -= 1 }  // CRLF files
                    if Self.isBlank(buffer[lineStart..<end]) { continue }
                    return Line(number: lineNumber, bytes: Data(buffer[lineStart..<end]), complete: true)
                }
                scanned = buffer.count
                if eof {
                    guard start < buffer.count else { return nil }
                    lineNumber += 1
                    let line = buffer[start...]
                    start = buffer.count
                    if Self.isBlank(line) { return nil }
                    return Line(number: lineNumber, bytes: Data(line), complete: false)
                }
                // Compact when the consumed part is at least half the buffer (amortised linear), then read more.
                if start > 0, start >= buffer.count / 2 {
                    buffer.removeSubrange(0..<start)
                    scanned -= start
                    start = 0
                }
                let chunk = (try? handle.read(upToCount: chunkSize)) ?? nil
                if let chunk, !chunk.isEmpty {
                    chunk.withUnsafeBytes { buffer.append(contentsOf: $0.bindMemory(to: UInt8.self)) }  // memcpy, not byte by byte
                } else {
                    eof = true
                }
            }
        }
    }
}

/// How often an append-only file is forced to disk. `flush` (write(2) per line) survives a killed process;
/// `fsync` also survives a power cut, at a cost per line.
public enum SyncPolicy: String, Sendable, CaseIterable {
    case flush
    case fsync
}

/// Appends lines to a file with one `write(2)` per line, so a process killed at any point leaves at most one torn
/// last line. Opening repairs a torn tail left by an earlier crash (truncating it), so the next line starts clean.
public final class JSONLinesAppender: @unchecked Sendable {
    // Guarded by `lock`; used from any thread.
    private let fd: Int32
    private let lock = NSLock()
    public let path: String
    public let sync: SyncPolicy
    /// Bytes dropped from a torn last line when the file was opened (0 if it ended cleanly).
    public let repairedBytes: Int

    public init(path: String, sync: SyncPolicy = .flush) throws {
        self.path = path
        self.sync = sync
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DataError(file: path, "cannot open for appending: \(FileChecks.cause(errno))")
        }
        self.fd = fd
        self.repairedBytes = try Self.truncateTornTail(fd: fd, path: path)
    }

    deinit { close(fd) }

    /// Appends one line (a newline is added). The bytes must not contain a newline.
    public func append(_ line: Data) throws {
        var record = line
        record.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        try record.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError(file: path, "write failed: \(FileChecks.cause(errno))")
                }
                offset += n
            }
        }
        if sync == .fsync, fsync(fd) != 0 {
            throw DataError(file: path, "fsync failed: \(FileChecks.cause(errno))")
        }
    }

    /// Encodes `value` as one JSON line and appends it.
    public func append<T: Encodable>(json value: T, encoder: JSONEncoder = JSONLines.encoder) throws {
        try append(try encoder.encode(value))
    }

    private static func truncateTornTail(fd: Int32, path: String) throws -> Int {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return 0 }
        // Scan back for the last newline, a block at a time.
        var end = size
        var block = [UInt8](repeating: 0, count: 4096)
        while end > 0 {
            let start = max(0, end - off_t(block.count))
            let want = Int(end - start)
            let got = pread(fd, &block, want, start)
            guard got == want else { throw DataError(file: path, "cannot read tail to check for a torn line") }
            if let i = block[0..<want].lastIndex(of: 0x0A) {
                let keep = start + off_t(i) + 1
                if keep == size { return 0 }
                guard ftruncate(fd, keep) == 0 else { throw DataError(file: path, "cannot drop torn last line") }
                return Int(size - keep)
            }
            end = start
        }
        guard ftruncate(fd, 0) == 0 else { throw DataError(file: path, "cannot drop torn last line") }
        return Int(size)
    }
}

public enum JSONLines {
    /// One encoder configuration everywhere: sorted keys (stable diffs and hashes), unescaped slashes and UTF-8.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Writes `data` to `path` atomically: a temporary file in the same folder, then rename(2).
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw DataError(file: path, "cannot write: it is a directory, not a file; give a file path")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DataError(file: path, "cannot write: \(FileChecks.cause(errno))") }
        do {
            try FileChecks.writeAll(fd, data, path: path)
            guard close(fd) == 0 else { throw DataError(file: path, "cannot write: \(FileChecks.cause(errno))") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw DataError(file: path, "cannot write: \(FileChecks.cause(code))")
        }
    }

    /// Decodes every line of a JSONL file as `T`, with `file:line` on any error.
    public static func decodeAll<T: Decodable>(_ type: T.Type, from path: String) throws -> [T] {
        try FileChecks.requireReadableFile(path)
        let decoder = JSONDecoder()
        var out: [T] = []
        for line in JSONLinesReader(path: path) {
            do {
                out.append(try decoder.decode(T.self, from: line.bytes))
            } catch {
                throw DataError(file: path, line: line.number, "not a valid record: \(describe(error))")
            }
        }
        return out
    }

    /// A short, human description of a decoding error (which key, what was expected).
    public static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ p: [any CodingKey]) -> String { p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let c): return "missing field '\(path(c.codingPath + [k]))'"
        case .typeMismatch(let t, let c): return "field '\(path(c.codingPath))' should be \(t)"
        case .valueNotFound(let t, let c): return "field '\(path(c.codingPath))' is null, expected \(t)"
        case .dataCorrupted(let c): return c.debugDescription + (c.codingPath.isEmpty ? "" : " at '\(path(c.codingPath))'")
        @unknown default: return "\(e)"
        }
    }
}
