import DistillData
import Foundation

/// Writes a run's output files as their rows arrive, in order, each to a hidden temporary beside its final name;
/// `commit()` renames them all into place at the end of the run, so a reader never sees half a file and a run that
/// throws leaves the previous outputs as they were. The bytes are those `RunDirectory.writeOutput` writes for the
/// same rows: one JSON object per line. A file that gets no row is not created (nor replaced).
public final class HarvestOutputWriter: @unchecked Sendable {
    final class File {
        let tmp: String
        /// Where the temporary is renamed to: the output's path, or a symlink's target.
        let target: String
        let handle: FileHandle
        var pending = Data()
        var rows = 0

        init(tmp: String, target: String, handle: FileHandle) {
            self.tmp = tmp
            self.target = target
            self.handle = handle
        }
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var files: [String: File] = [:]
    public let directory: String
    /// Bytes buffered per file before a write(2).
    static let flushBytes = 1 << 20

    public init(directory: String) {
        self.directory = directory
    }

    deinit { discard() }

    /// Appends `lines` (JSON objects, no newline) to output file `name`.
    public func append(_ name: String, _ lines: [Data]) throws {
        guard !lines.isEmpty else { return }
        lock.lock(); defer { lock.unlock() }
        let file = try open(name)
        for line in lines {
            file.pending.append(line)
            file.pending.append(0x0A)
        }
        file.rows += lines.count
        if file.pending.count >= Self.flushBytes { try flush(file, name) }
    }

    /// Renames every file into place; returns the rows written per file.
    @discardableResult
    public func commit() throws -> [String: Int] {
        lock.lock(); defer { lock.unlock() }
        for (name, file) in files.sorted(by: { $0.key < $1.key }) {
            try flush(file, name)
            do { try file.handle.close() } catch {
                throw DataError(file: path(name), "cannot write: \(error.localizedDescription)")
            }
            guard rename(file.tmp, file.target) == 0 else {
                throw DataError(file: path(name), "cannot write: \(FileChecks.cause(errno))")
            }
            TemporaryFiles.unregister(file.tmp)
        }
        let counts = files.mapValues(\.rows)
        files = [:]
        return counts
    }

    /// Ends a run: what the recipe returned rather than streamed (self-instruct's task lists) goes after what it
    /// streamed, every file is renamed into place, and a returned file with no rows is still written (empty).
    /// Returns the rows per file.
    public func finish(returned: [String: [Data]], in directory: HarvestRunDirectory) throws -> [String: Int] {
        for (name, lines) in returned.sorted(by: { $0.key < $1.key }) { try append(name, lines) }
        var counts = try commit()
        for (name, lines) in returned where lines.isEmpty && counts[name] == nil {
            try directory.writeOutput(name, lines: [])
            counts[name] = 0
        }
        return counts
    }

    /// Removes the temporaries (a run that threw keeps its earlier outputs).
    public func discard() {
        lock.lock(); defer { lock.unlock() }
        for file in files.values {
            try? file.handle.close()
            unlink(file.tmp)
            TemporaryFiles.unregister(file.tmp)
        }
        files = [:]
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    private func open(_ name: String) throws -> File {
        if let file = files[name] { return file }
        // A symlinked output is written through to its target, as `OutputFile.write` does.
        let target: String
        switch try OutputFile.target(path(name)) {
        case .atomic(let file): target = file
        case .direct, .standardOutput:
            throw DataError(file: path(name), "is not a regular file; a run directory's outputs are files")
        }
        let (tmp, handle) = try OutputFile.createTemporary(for: target, mode: 0o600)
        let file = File(tmp: tmp, target: target, handle: handle)
        files[name] = file
        return file
    }

    private func flush(_ file: File, _ name: String) throws {
        guard !file.pending.isEmpty else { return }
        do { try file.handle.write(contentsOf: file.pending) } catch {
            throw DataError(file: path(name), "cannot write: \(error.localizedDescription)")
        }
        file.pending.removeAll(keepingCapacity: true)
    }
}
