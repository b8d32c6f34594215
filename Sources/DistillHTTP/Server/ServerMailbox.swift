import Glibc
import Synchronization

/// Commands from handler tasks to the server's I/O thread, plus the self-pipe that wakes its `poll`.
final class ServerMailbox: Sendable {
    enum Command: Sendable {
        case send(UInt64, [UInt8])
        /// The response is complete; keep the connection for the next request or close it once flushed.
        case finish(UInt64, keepAlive: Bool)
        case close(UInt64)
        case reset(UInt64)
        case stop
    }

    private struct State {
        var commands: [Command] = []
        var wakePending = false
    }

    private let state = Mutex(State())
    /// Read end (polled by the I/O thread) and write end of the wake pipe; both non-blocking.
    let wakeRead: Int32
    private let wakeWrite: Int32

    init() throws(HTTPServerError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .system("pipe", errno) }
        setNonBlocking(fds[0])
        setNonBlocking(fds[1])
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

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

/// A server start-up or socket failure, with the C library's own message.
public struct HTTPServerError: Error, CustomStringConvertible, Equatable {
    public var description: String
    static func system(_ call: String, _ code: Int32) -> HTTPServerError {
        HTTPServerError(description: "\(call): \(String(cString: strerror(code)))")
    }
}

/// Sets O_NONBLOCK and FD_CLOEXEC (the Glibc module has no accept4/pipe2).
func setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
    _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD, 0) | FD_CLOEXEC)
}
