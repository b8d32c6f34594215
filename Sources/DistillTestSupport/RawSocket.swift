import Foundation
import Glibc

/// A blocking TCP client socket to 127.0.0.1 for driving the server byte by byte in tests.
public final class RawSocket {
    public let fd: Int32

    /// Connects; with `connectTimeoutSeconds: 0` the connect is non-blocking and not waited for (to fill a backlog).
    public init(port: Int, connectTimeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if connectTimeoutSeconds == 0 { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var tv = timeval(tv_sec: 30, tv_usec: 0)  // generous: other suites may hold the cooperative pool for seconds
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 && connectTimeoutSeconds != 0 { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `predicate` holds on everything read so far, EOF, or the 30-second receive timeout.
    public func read(until predicate: (String) -> Bool) -> String {
        var all: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while !predicate(String(decoding: all, as: UTF8.self)) {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            all += buf[0..<n]
        }
        return String(decoding: all, as: UTF8.self)
    }

    /// Reads one response with a Content-Length body.
    public func readResponse() -> String {
        read { text in
            guard let headEnd = text.range(of: "\r\n\r\n") else { return false }
            let head = text[..<headEnd.lowerBound].lowercased()
            guard let cl = head.range(of: "content-length: ") else { return true }
            let digits = head[cl.upperBound...].prefix { $0.isNumber }
            return text.utf8.count - text[..<headEnd.upperBound].utf8.count >= Int(digits) ?? 0
        }
    }
}

/// Runs blocking socket code on its own thread, so the cooperative pool (two threads on this machine) stays free
/// for the server's handler tasks.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
