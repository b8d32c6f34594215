import Foundation

/// One JSON object from a dataset file, undecoded: its bytes, the 1-based line it starts on and its byte offset.
public struct RawItem: Sendable {
    public var line: Int
    public var offset: Int
    public var bytes: Data
}

/// Pulls items out of a JSONL file or a JSON array one at a time, reading the file in chunks, so a multi-GB dataset
/// is never held whole. In an array it finds each object by brace depth, aware of strings and escapes.
struct RawItemScanner {
    enum Mode { case jsonLines, jsonArray }

    let path: String
    let mode: Mode
    private let handle: FileHandle
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var pos = 0
    /// File offset of buffer[0].
    private var base = 0
    /// Line number at buffer[pos].
    private var line = 1
    private var eof = false
    // Array state.
    private var opened = false
    private var closed = false
    private var itemCount = 0
    /// The largest item a JSON array may hold; far above any real training example.
    static let maxItemBytes = 256 << 20

    init(path: String, mode: Mode, chunkSize: Int = 1 << 20) throws {
        try FileChecks.requireReadableFile(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, "cannot open for reading")
        }
        self.path = path
        self.mode = mode
        self.handle = handle
        self.chunkSize = chunkSize
    }

    /// Reads another chunk, first dropping bytes before `keep`. Returns how far indices moved (subtract it).
    private mutating func fill(keeping keep: Int) throws -> Int {
        let drop = min(keep, buffer.count)
        if drop > 0 {
            buffer.removeSubrange(0..<drop)
            base += drop
            pos -= drop
        }
        let chunk: Data?
        do { chunk = try handle.read(upToCount: chunkSize) } catch {
            throw DataError(file: path, "read failed: \(error.localizedDescription)")
        }
        if let chunk, !chunk.isEmpty {
            chunk.withUnsafeBytes { buffer.append(contentsOf: $0.bindMemory(to: UInt8.self)) }  // memcpy, not byte by byte
        } else {
            eof = true
        }
        return drop
    }

    mutating func next() throws -> RawItem? {
        switch mode {
        case .jsonLines: return try nextLine()
        case .jsonArray: return try nextElement()
        }
    }

    private mutating func nextLine() throws -> RawItem? {
        var scan = pos
        while true {
            if let nl = buffer[scan...].firstIndex(of: 0x0A) {
                let start = pos, number = line
                pos = nl + 1
                line += 1
                if let item = lineItem(start, nl, number) { return item }
                scan = pos
                continue
            }
            if eof {
                guard pos < buffer.count else { return nil }
                let start = pos
                pos = buffer.count
                return lineItem(start, buffer.count, line)
            }
            scan = buffer.count  // everything so far has been searched
            scan -= try fill(keeping: pos)
        }
    }

    private func lineItem(_ start: Int, _ end: Int, _ number: Int) -> RawItem? {
        var s = start, e = end
        if s == 0, base == 0, buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { s = 3 }  // BOM
        while s < e, Self.isSpace(buffer[s]) { s += 1 }
        while e > s, Self.isSpace(buffer[e - 1]) { e -= 1 }
        guard s < e else { return nil }
        return RawItem(line: number, offset: base + s, bytes: Data(buffer[s..<e]))
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    /// Skips whitespace (counting lines); returns false at end of file.
    private mutating func skipSpace() throws -> Bool {
        while true {
            while pos < buffer.count, Self.isSpace(buffer[pos]) {
                if buffer[pos] == 0x0A { line += 1 }
                pos += 1
            }
            if pos < buffer.count { return true }
            if eof { return false }
            _ = try fill(keeping: pos)
        }
    }

    private func describe(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : String(format: "byte 0x%02X", b)
    }

    private mutating func nextElement() throws -> RawItem? {
        if closed { return nil }
        if !opened {
            if base == 0, pos == 0 {
                while buffer.count < 3, !eof { _ = try fill(keeping: 0) }
                if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
            }
            guard try skipSpace(), buffer[pos] == 0x5B else {
                throw DataError(file: path, line: line, "expected a JSON array starting with '['")
            }
            pos += 1
            opened = true
        }
        guard try skipSpace() else {
            throw DataError(file: path, line: line, "file ends before the closing ']' of the JSON array (truncated?)")
        }
        if itemCount > 0, buffer[pos] == 0x2C {  // the comma between items
            pos += 1
            guard try skipSpace() else {
                throw DataError(file: path, line: line, "file ends before the closing ']' of the JSON array (truncated?)")
            }
        } else if itemCount > 0, buffer[pos] != 0x5D {
            throw DataError(file: path, line: line, "expected ',' or ']' after item \(itemCount), found \(describe(buffer[pos]))")
        }
        if buffer[pos] == 0x5D {  // ]
            pos += 1
            closed = true
            if try skipSpace() {
                throw DataError(file: path, line: line, "unexpected \(describe(buffer[pos])) after the closing ']'")
            }
            return nil
        }
        guard buffer[pos] == 0x7B else {
            throw DataError(file: path, line: line,
                            "item \(itemCount + 1) is not a JSON object (starts with \(describe(buffer[pos])))")
        }
        return try scanObject()
    }

    /// Scans one `{…}` starting at `pos`, tracking depth, strings and escapes across chunk boundaries.
    private mutating func scanObject() throws -> RawItem {
        var start = pos
        let startLine = line
        var depth = 0
        var inString = false
        var escaped = false
        var i = pos
        while true {
            while i < buffer.count {
                let b = buffer[i]
                i += 1
                if b == 0x0A { line += 1 }
                if inString {
                    if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                    continue
                }
                switch b {
                case 0x22: inString = true
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D:
                    depth -= 1
                    if depth == 0 {
                        pos = i
                        itemCount += 1
                        return RawItem(line: startLine, offset: base + start, bytes: Data(buffer[start..<i]))
                    }
                default: break
                }
            }
            if eof {
                throw DataError(file: path, line: startLine,
                                "file ends inside item \(itemCount + 1), which starts here (truncated file?)")
            }
            // A missing closing brace would otherwise pull the rest of a multi-GB file into memory.
            guard i - start <= Self.maxItemBytes else {
                throw DataError(file: path, line: startLine, "item \(itemCount + 1), which starts here, is larger than "
                    + "\(Self.maxItemBytes >> 20) MiB: is a closing brace or quote missing?")
            }
            pos = start
            let shift = try fill(keeping: start)
            start -= shift
            i -= shift
        }
    }
}
