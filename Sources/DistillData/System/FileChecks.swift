import Foundation

/// Turns the ways a path can be wrong (missing, a directory, unreadable, a full disk, a read-only folder, a file
/// name that is not UTF-8) into one sentence naming the path and the cause, instead of a raw system error.
public enum FileChecks {
    /// Throws a `DataError` unless `path` names an existing file (not a directory) that this process may read.
    public static func requireReadableFile(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            throw DataError(file: path, code == ENOENT ? missing(path) : "cannot be read: \(cause(code))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw DataError(file: path, "is a directory, not a file: give the path of a file (for example one inside it)")
        }
        guard access(path, R_OK) == 0 else {
            throw DataError(file: path, "cannot be read: \(cause(errno))")
        }
    }

    /// "no such file", with the likely reason when the name could not be decoded as UTF-8.
    public static func missing(_ path: String) -> String {
        if path.unicodeScalars.contains("\u{FFFD}") {
            return "no such file; the name holds a byte sequence that is not UTF-8 (shown as \u{FFFD}), which distill "
                + "cannot pass on: rename the file to a UTF-8 name"
        }
        return "no such file"
    }

    /// A sentence for a system error number: what went wrong and, where there is one, what to do.
    public static func cause(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "a folder on the path does not exist (create it first)"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EISDIR: return "it is a directory, not a file"
        case EACCES, EPERM: return "permission denied (check the permissions of the file and its folder)"
        case EROFS: return "the file system is read-only"
        case ENOSPC: return "the disk is full (no space left on device): free some space and run again"
        case EDQUOT: return "the disk quota is exhausted: free some space and run again"
        case ENAMETOOLONG: return "the file name is too long"
        case EMFILE, ENFILE: return "too many open files"
        case EIO: return "an input/output error from the device"
        default: return String(cString: strerror(code))
        }
    }

    /// Writes all of `data` to the open descriptor, retrying short writes; throws a located error.
    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return }
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError(file: path, "cannot write: \(cause(errno))")
                }
                offset += n
            }
        }
    }
}
