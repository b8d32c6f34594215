import Foundation

/// Writes dataset items to a temporary file beside `path` and renames it into place on `finish()`, so a reader
/// never sees half a file and a failed run leaves the old file intact. Streams: items are not held in memory.
public final class DatasetWriter {
    public let path: String
    public let container: DatasetReader.Container
    /// The hidden temporary renamed into place by `finish()`; nil when writing through (`-`, a device, a pipe).
    private let tmp: String?
    private let finalPath: String
    private let handle: FileHandle
    private var count = 0
    private var pending = Data()
    private var finished = false

    /// The container a file name implies: `.json` → JSON array, anything else → JSONL.
    public static func container(forPath path: String) -> DatasetReader.Container {
        path.lowercased().hasSuffix(".json") ? .jsonArray : .jsonLines
    }

    public init(path: String, container: DatasetReader.Container? = nil) throws {
        self.path = path
        self.container = container ?? Self.container(forPath: path)
        switch try OutputFile.target(path) {
        case .standardOutput:
            tmp = nil
            finalPath = path
            handle = FileHandle.standardOutput
        case .direct(let device):
            tmp = nil
            finalPath = device
            handle = try OutputFile.openDirect(device)
        case .atomic(let file):
            let created = try OutputFile.createTemporary(for: file, mode: 0o644)
            tmp = created.path
            finalPath = file
            handle = created.handle
        }
        if self.container == .jsonArray { pending.append(contentsOf: "[\n".utf8) }
    }

    deinit {
        if !finished, let tmp {
            try? handle.close()
            unlink(tmp)
            TemporaryFiles.unregister(tmp)
        }
    }

    /// Appends one item given as compact JSON bytes (no newline inside).
    public func append(json: Data) throws {
        if container == .jsonArray, count > 0 { pending.append(contentsOf: ",\n".utf8) }
        pending.append(json)
        if container == .jsonLines { pending.append(0x0A) }
        count += 1
        if pending.count >= 1 << 20 { try flush() }
    }

    /// Appends one `Encodable` item (sorted keys, as `JSONLines.encoder` writes).
    public func append<T: Encodable>(_ value: T, encoder: JSONEncoder = JSONLines.encoder) throws {
        try append(json: try encoder.encode(value))
    }

    /// Appends a `JSONValue` with its members in their order.
    public func append(_ value: JSONValue) throws { try append(json: value.compactData()) }

    private func flush() throws {
        do { try handle.write(contentsOf: pending) } catch {
            throw DataError(file: path, "write failed: \(error.localizedDescription)")
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Completes the file and renames it into place. Returns the number of items written.
    @discardableResult
    public func finish() throws -> Int {
        if container == .jsonArray { pending.append(contentsOf: (count > 0 ? "\n]\n" : "]\n").utf8) }
        try flush()
        finished = true
        guard let tmp else { return count }
        try handle.close()
        defer { TemporaryFiles.unregister(tmp) }
        guard rename(tmp, finalPath) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(tmp)
            throw DataError(file: path, "rename failed: \(message)")
        }
        return count
    }
}
