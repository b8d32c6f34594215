import Foundation

/// A decoded item and the 1-based line of the file it starts on.
public struct Numbered<Value> {
    public var line: Int
    public var value: Value
    public init(line: Int, value: Value) {
        self.line = line
        self.value = value
    }
}

extension Numbered: Sendable where Value: Sendable {}

/// Reads dataset items from a JSON array or a JSONL file (detected by the first non-space byte: `[` means an array),
/// streaming both, so a multi-GB file is never loaded whole.
///
/// Every problem is a `DataError` with `file:line`, the field when there is one, and what to do: invalid UTF-8 (with
/// its byte offset), a line that is not JSON, a missing or mistyped field, and text that looks double-encoded.
public struct DatasetReader: Sendable {
    /// How the items are laid out in the file.
    public enum Container: String, Sendable {
        case jsonArray = "JSON array"
        case jsonLines = "JSONL"
    }

    public let path: String
    public let container: Container
    /// Where reading progress goes on big files (every 8,192 items); nil for none.
    public let progress: ProgressReporter?

    /// Opens `path` and detects its container; throws if it is missing, empty or neither JSON array nor JSONL.
    public init(path: String, progress: ProgressReporter? = nil) throws {
        self.path = path
        self.progress = progress
        try FileChecks.requireReadableFile(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, "cannot open for reading")
        }
        defer { try? handle.close() }
        var first: UInt8? = nil
        var skippedBOM = false
        outer: while let chunk = try? handle.read(upToCount: 64 << 10), !chunk.isEmpty {
            var bytes = chunk[...]
            if !skippedBOM {
                skippedBOM = true
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            }
            for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D) {
                first = b
                break outer
            }
        }
        guard let first else { throw DataError(file: path, "the file is empty: expected JSONL or a JSON array of items") }
        container = first == 0x5B ? .jsonArray : .jsonLines
    }

    /// A pull iterator over undecoded items; `next()` throws on a malformed file.
    public struct RawIterator {
        var scanner: RawItemScanner
        let progress: ProgressReporter?
        let name: String
        var count = 0

        public mutating func next() throws -> RawItem? {
            guard let item = try scanner.next() else {
                if count >= 8192 { progress?.clear() }
                return nil
            }
            count += 1
            if count % 8192 == 0, let progress {
                progress.update("\(name): \(count) items, \((item.offset + item.bytes.count) >> 20) MiB read")
            }
            return item
        }
    }

    /// Starts reading undecoded items from the beginning of the file.
    public func makeRawIterator() throws -> RawIterator {
        RawIterator(scanner: try RawItemScanner(path: path, mode: container == .jsonArray ? .jsonArray : .jsonLines),
                    progress: progress, name: URL(fileURLWithPath: path).lastPathComponent)
    }

    /// Calls `body` with every item's bytes, after checking they are valid UTF-8.
    public func forEachRaw(_ body: (RawItem) throws -> Void) throws {
        var it = try makeRawIterator()
        while let item = try it.next() {
            try checkUTF8(item)
            try body(item)
        }
    }

    /// Throws a `DataError` with line and absolute byte offset if the item's bytes are not valid UTF-8.
    public func checkUTF8(_ item: RawItem) throws {
        if let bad = UTF8Validation.firstInvalidByte(in: item.bytes) {
            throw DataError(file: path, line: item.line + bad.line - 1, String(format:
                "invalid UTF-8 at byte offset %d (byte 0x%02X); the file is not UTF-8 — re-save it as UTF-8 "
                + "(e.g. iconv -f GBK -t UTF-8 for GBK text)", item.offset + bad.offset, bad.byte))
        }
    }

    /// Calls `body` with every item parsed as a `JSONValue` (any shape; member order kept) and its line.
    public func forEachValue(_ body: (Numbered<JSONValue>) throws -> Void) throws {
        try forEachRaw { raw in
            do {
                try body(Numbered(line: raw.line, value: try JSONValue.parse(raw.bytes)))
            } catch let e as JSONValue.ParseError {
                throw DataError(file: path, line: raw.line, "not valid JSON (\(e)): each item must be one complete JSON object")
            }
        }
    }

    /// Decodes every item as `T` and calls `body` with it and its line. With `checkEncoding`, text that looks
    /// double-encoded is an error rather than something to train on.
    public func forEach<T: DatasetRecord>(_ type: T.Type, checkEncoding: Bool = true,
                                          _ body: (Numbered<T>) throws -> Void) throws {
        let decoder = JSONDecoder()
        try forEachRaw { item in
            let value = try decode(T.self, item, decoder: decoder)
            if checkEncoding { try Self.checkMojibake(value.textFields, file: path, line: item.line) }
            try body(Numbered(line: item.line, value: value))
        }
    }

    /// Reads every item into memory (fine for samples, test sets and journals; use `forEach` for big files).
    public func readAll<T: DatasetRecord>(_ type: T.Type, checkEncoding: Bool = true) throws -> [Numbered<T>] {
        var out: [Numbered<T>] = []
        try forEach(type, checkEncoding: checkEncoding) { out.append($0) }
        return out
    }

    /// Reads every item of `path` as `T`; shorthand for `DatasetReader(path:).readAll(T.self).map(\.value)`.
    public static func read<T: DatasetRecord>(_ type: T.Type, from path: String) throws -> [T] {
        try DatasetReader(path: path).readAll(type).map(\.value)
    }

    /// Decodes one item, turning a `DecodingError` into `file:line: field 'x': …` with the expected shape.
    public func decode<T: DatasetRecord>(_ type: T.Type, _ item: RawItem, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        do {
            return try decoder.decode(T.self, from: item.bytes)
        } catch let error as DecodingError {
            throw Self.dataError(error, T.self, file: path, line: item.line)
        }
    }

    /// A `DataError` for a decoding failure: which field, what was wrong, and the shape a `T` needs.
    public static func dataError<T: DatasetRecord>(_ error: DecodingError, _ type: T.Type, file: String, line: Int) -> DataError {
        func path(_ p: [any CodingKey]) -> String {
            var s = ""
            for k in p {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s
        }
        let hint = "; a \(T.kindDescription) looks like \(T.expectedShape)"
        switch error {
        case .keyNotFound(let key, let c):
            return DataError(file: file, line: line, field: path(c.codingPath + [key]), "missing" + hint)
        case .typeMismatch(_, let c) where c.codingPath.isEmpty:
            return DataError(file: file, line: line, "is not a JSON object" + hint)
        case .typeMismatch(let t, let c):
            let want = t == String.self ? "a string" : t == Bool.self ? "true or false" : "\(t)"
            return DataError(file: file, line: line, field: path(c.codingPath), "should be \(want)" + hint)
        case .valueNotFound(let t, let c):
            let want = t == String.self ? "a string" : "\(t)"
            return DataError(file: file, line: line, field: path(c.codingPath), "is null, should be \(want)" + hint)
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty {
                let why = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return DataError(file: file, line: line, "not valid JSON"
                    + (why.map { " (\($0))" } ?? "") + ": each item must be one complete JSON object" + hint)
            }
            return DataError(file: file, line: line, field: path(c.codingPath), c.debugDescription)
        @unknown default:
            return DataError(file: file, line: line, "\(error)")
        }
    }

    /// Throws for the first text field that looks double-encoded.
    public static func checkMojibake(_ fields: [(field: String, text: String)], file: String, line: Int) throws {
        for (field, text) in fields {
            if let f = Mojibake.detect(text) { throw mojibakeError(f, file: file, line: line, field: field) }
        }
    }

    /// The error for a double-encoded field, with a sample of the repair.
    public static func mojibakeError(_ f: Mojibake.Finding, file: String, line: Int, field: String) -> DataError {
        DataError(file: file, line: line, field: field,
                  "looks double-encoded (UTF-8 read as Windows-1252): \"\(f.sample)\" would be \"\(f.repairedSample)\"; "
                  + "repair the file with 'distill data check --fix-mojibake OUT \(file)'")
    }
}
