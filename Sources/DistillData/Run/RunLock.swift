import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a run (a directory, or one output file), so two processes never write one run.
///
/// `flock(LOCK_EX | LOCK_NB)` on a lock file: a second process is refused at once, with the holder's pid, command
/// and start time read from the file. The kernel drops the lock when the holder exits, however it exits (SIGKILL
/// included), so a crash never leaves a run locked. Within one process, locking the same file again shares the
/// lock the process already holds (re-opening a run to resume it is not a conflict).
public final class RunLock: @unchecked Sendable {
    // @unchecked: the registry below is guarded by `registryLock`; an instance's state is immutable after init.
    public let path: String
    private let key: String
    private var released = false
    private let stateLock = NSLock()

    private static let registryLock = NSLock()
    /// Lock-file identity (device:inode) → (fd, holders in this process).
    nonisolated(unsafe) private static var held: [String: (fd: Int32, count: Int)] = [:]

    /// Takes the lock in `lockFile` (created 0600 if missing), or throws a `DataError` naming who holds it.
    /// `purpose` says what is locked, for the message ("run directory runs/x").
    public static func acquire(_ lockFile: String, purpose: String) throws -> RunLock {
        let fd = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DataError(file: lockFile, "cannot create the lock file for \(purpose): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw DataError(file: lockFile, "cannot inspect the lock file: \(reason)")
        }
        let key = "\(st.st_dev):\(st.st_ino)"
        registryLock.lock()
        defer { registryLock.unlock() }
        if let existing = held[key] {
            close(fd)
            held[key] = (existing.fd, existing.count + 1)
            return RunLock(path: lockFile, key: key)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            let holder = readHolder(fd)
            close(fd)
            if busy {
                throw DataError(file: lockFile, "\(purpose) is in use by another distill process"
                    + (holder.isEmpty ? "" : " (\(holder))")
                    + "; wait for it to finish or stop it — two processes on one run would pay for and write everything twice")
            }
            throw DataError(file: lockFile, "cannot lock \(purpose): \(reason)")
        }
        writeHolder(fd)
        held[key] = (fd, 1)
        return RunLock(path: lockFile, key: key)
    }

    private init(path: String, key: String) {
        self.path = path
        self.key = key
    }

    deinit { release() }

    /// Gives the lock up (once; later calls do nothing). The lock file stays: deleting it would race a new holder.
    public func release() {
        stateLock.lock()
        let first = !released
        released = true
        stateLock.unlock()
        guard first else { return }
        Self.registryLock.lock()
        defer { Self.registryLock.unlock() }
        guard let entry = Self.held[key] else { return }
        if entry.count > 1 {
            Self.held[key] = (entry.fd, entry.count - 1)
        } else {
            Self.held[key] = nil
            // Unlock before closing: a child that another thread is spawning at this instant holds a copy of the
            // descriptor until its exec closes it (O_CLOEXEC), and a flock lives while any copy of the open file
            // lives. LOCK_UN drops the lock for every copy at once, so the next holder never sees it "in use".
            _ = flock(entry.fd, LOCK_UN)
            close(entry.fd)
        }
    }

    private static func writeHolder(_ fd: Int32) {
        let command = Redaction.maskingURLPasswords(CommandLine.arguments.joined(separator: " "))
        let since = ISO8601DateFormatter().string(from: Date())
        let text = "pid \(getpid()), since \(since): \(String(command.prefix(300)))\n"
        _ = ftruncate(fd, 0)
        _ = text.utf8CString.withUnsafeBufferPointer { buf in pwrite(fd, buf.baseAddress, buf.count - 1, 0) }
    }

    private static func readHolder(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
        guard n > 0 else { return "" }
        return String(decoding: buf[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
