import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server on POSIX sockets: keep-alive, Content-Length and chunked request bodies, many connections.
///
/// One thread owns every socket and multiplexes them with `poll(2)`; each complete request is handed to the async
/// handler on a new task, so slow handlers (a 2-second teacher, a model generating tokens) never hold up the others.
/// Responses come back through a mailbox that wakes the I/O thread. Requests on one connection are answered in order
/// (no pipelining in parallel). `distill serve` and the teacher stand-in used by tests both sit on it.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

    /// The port actually bound (useful with port 0, which picks a free ephemeral port).
    public let port: Int
    public let host: String
    private let mailbox: ServerMailbox
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Binds and starts serving at once. `host` must be an IPv4 address literal (`127.0.0.1` for tests).
    public init(host: String = "127.0.0.1", port: Int = 0, backlog: Int32 = 4096,
                handler: @escaping Handler) throws(HTTPServerError) {
        let fd = try Self.listen(host: host, port: port, backlog: backlog)
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &len) }
        }
        self.port = Int(UInt16(bigEndian: addr.sin_port))
        self.host = host
        let mailbox: ServerMailbox
        do throws(ServerMailbox.PipeFailed) {
            mailbox = try ServerMailbox()
        } catch {
            throw .system("pipe", error.code)
        }
        self.mailbox = mailbox
        let loop = ServerLoop(listenFD: fd, mailbox: mailbox, handler: handler)
        let done = finished
        let thread = Thread {
            loop.run()
            done.signal()
        }
        thread.name = "distill-http-server"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { stop() }

    /// Closes the listener and every connection, and waits for the I/O thread to finish. Safe to call twice.
    public func stop() {
        let first = stopped.withLock { s in defer { s = true }; return !s }
        guard first else { return }
        mailbox.post(.stop)
        finished.wait()
    }

    private static func listen(host: String, port: Int, backlog: Int32) throws(HTTPServerError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            Glibc.close(fd)
            throw HTTPServerError(description: "not an IPv4 address: '\(host)'")
        }
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .system("bind \(host):\(port)", e)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .system("listen", e)
        }
        return fd
    }
}
