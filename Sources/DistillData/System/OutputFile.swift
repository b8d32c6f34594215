import Foundation

/// Where an output path really leads, so writing it never replaces what it should write through.
///
/// `-` is standard output. A symlink is followed to its final target, which is replaced atomically (the link stays a
/// link). A path that exists and is not a regular file — a device such as `/dev/stdout`, a FIFO, `<(…)` — is written
/// directly, never renamed over. Anything else is a regular file written beside itself and renamed into place.
public enum OutputFile {
    public enum Target: Equatable, Sendable {
        case standardOutput
        /// Written in place (a device or a pipe).
        case direct(String)
        /// A regular file (or a new one), replaced by rename; the path is the symlink's target when given a link.
        case atomic(String)
    }

    public static func target(_ path: String) throws -> Target {
        if path == "-" { return .standardOutput }
        var resolved = path
        var hops = 0
        while let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: resolved) {
            hops += 1
            guard hops <= 32 else { throw DataError(file: path, "too many levels of symbolic links") }
            resolved = dest.hasPrefix("/") ? dest : (resolved as NSString).deletingLastPathComponent + "/" + dest
        }
        var st = stat()
        if stat(resolved, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            guard (st.st_mode & S_IFMT) != S_IFDIR else {
                throw DataError(file: path, "is a directory; give a file name for the output")
            }
            return .direct(resolved)
        }
        return .atomic(resolved)
    }

    /// The hidden temporary beside `path` that an atomic write renames into place.
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    }

    /// Creates (exclusively, with `mode`) the temporary for `path`, registered so a signal removes it.
    public static func createTemporary(for path: String, mode: mode_t) throws -> (path: String, handle: FileHandle) {
        let tmp = temporaryPath(for: path)
        unlink(tmp)  // a leftover of an earlier process with the same pid
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw DataError(file: path, "cannot write: \(FileChecks.cause(errno))") }
        TemporaryFiles.register(tmp)
        return (tmp, FileHandle(fileDescriptor: fd, closeOnDealloc: true))
    }

    /// Opens a device or pipe for writing, without creating or truncating anything.
    public static func openDirect(_ path: String) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError(file: path, "cannot write: \(FileChecks.cause(errno))") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Writes `data` to `path` as a whole: atomically for a regular file (new files get `mode`; 0600 by default, as
    /// run directories hold paid data), straight through for a device, pipe or `-`.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        switch try target(path) {
        case .standardOutput:
            FileHandle.standardOutput.write(data)
        case .direct(let device):
            let handle = try openDirect(device)
            try FileChecks.writeAll(handle.fileDescriptor, data, path: path)
        case .atomic(let file):
            let (tmp, handle) = try createTemporary(for: file, mode: mode)
            defer { TemporaryFiles.unregister(tmp) }
            do {
                try FileChecks.writeAll(handle.fileDescriptor, data, path: path)
                try handle.close()
            } catch let e as DataError {
                unlink(tmp)
                throw e
            } catch {
                unlink(tmp)
                throw DataError(file: path, "cannot write: \(error.localizedDescription)")
            }
            guard rename(tmp, file) == 0 else {
                let code = errno
                unlink(tmp)
                throw DataError(file: path, "cannot write: \(FileChecks.cause(code))")
            }
        }
    }
}

/// Temporary files in the making, removed when a signal ends the process (so a killed `data convert` leaves no
/// hidden `.NAME.tmp-PID` behind). Thread-safe.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []

    public static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.insert(path)
    }

    public static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
    }

    /// Removes every registered temporary (called on the way out after a signal).
    public static func removeAll() {
        lock.lock(); defer { lock.unlock() }
        for p in paths.sorted(by: >) { if unlink(p) != 0 { rmdir(p) } }
        paths.removeAll()
    }
}
