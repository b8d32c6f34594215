import DistillData
import Foundation

/// Writes a file so that readers see either the old version or the complete new one: a temporary file in the same
/// folder, fsync, rename(2) over the target, then fsync of the folder so the rename itself is durable.
/// Any failure (a full disk included) removes the temporary file and leaves the old version in place.
public enum AtomicFile {
    /// Calls `body` with a descriptor to the temporary file, then publishes it at `path`.
    public static func write(to path: String, _ body: (Int32) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let tmp = folder + "/.\(url.lastPathComponent).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DataError(file: path, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        do {
            try body(fd)
            guard fsync(fd) == 0 else { throw DataError(file: path, "fsync failed: \(String(cString: strerror(errno)))") }
            guard close(fd) == 0 else { throw DataError(file: path, "close failed: \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw DataError(file: path, "rename failed: \(why)")
        }
        let dir = open(folder, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Writes `data` to `path` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try writeAll($0, data, path: path) }
    }

    /// write(2) until every byte is out; ENOSPC and other errors become a `DataError` naming `path`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(file: path, "write failed after \(done) bytes: \(String(cString: strerror(errno)))"
                    + (errno == ENOSPC ? " (the disk is full; the previous version is untouched)" : ""))
            }
            done += n
        }
    }

    public static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }
}
