import Glibc
import Synchronization

/// Commands from any thread to one I/O thread, plus the self-pipe that wakes its `poll`/`epoll_wait`.
///
/// Both the client's curl driver and the server's loop own one. Posting many commands before the I/O thread wakes
/// writes a single byte; `take()` drains the pipe and hands back every command in the order posted. Invariant: while
/// commands are queued, a wake byte is in the pipe (or about to be), so the I/O thread need only `take()` when the
/// read end is readable.
final class WakePipeMailbox<Command: Sendable>: Sendable {
    /// Creating the pipe failed; `code` is the `errno`.
    struct PipeFailed: Error {
        var code: Int32
    }

    private struct State {
        var commands: [Command] = []
        var wakePending = false
    }

    private let state = Mutex(State())
    /// Read end (watched by the I/O thread) and write end of the wake pipe; both non-blocking and close-on-exec.
    let wakeRead: Int32
    private let wakeWrite: Int32

    init() throws(PipeFailed) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PipeFailed(code: errno) }
        setNonBlocking(fds[0])
        setNonBlocking(fds[1])
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Queues `command` and wakes the I/O thread unless a wake-up is already pending.
    func post(_ command: Command) {
        let needsWake = state.withLock { s in
            s.commands.append(command)
            defer { s.wakePending = true }
            return !s.wakePending
        }
        if needsWake {
            var byte: UInt8 = 1
            _ = Glibc.write(wakeWrite, &byte, 1)
        }
    }

    /// Takes every queued command (I/O thread only) and drains the wake pipe.
    func take() -> [Command] {
        var sink = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeRead, &sink, sink.count) > 0 {}
        return state.withLock { s in
            s.wakePending = false
            defer { s.commands.removeAll(keepingCapacity: true) }
            return s.commands
        }
    }
}

/// Sets O_NONBLOCK and FD_CLOEXEC (the Glibc module has no accept4/pipe2).
func setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
    _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD, 0) | FD_CLOEXEC)
}
