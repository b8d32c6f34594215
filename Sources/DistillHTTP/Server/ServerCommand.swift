import Glibc

/// What a handler task asks of the server's I/O thread, through its `ServerMailbox`.
enum ServerCommand: Sendable {
    case send(UInt64, [UInt8])
    /// The response is complete; keep the connection for the next request or close it once flushed.
    case finish(UInt64, keepAlive: Bool)
    case close(UInt64)
    case reset(UInt64)
    case stop
}

/// Commands from handler tasks to the server's I/O thread, plus the self-pipe that wakes its `poll`.
typealias ServerMailbox = WakePipeMailbox<ServerCommand>

/// A server start-up or socket failure, with the C library's own message.
public struct HTTPServerError: Error, CustomStringConvertible, Equatable {
    public var description: String
    static func system(_ call: String, _ code: Int32) -> HTTPServerError {
        HTTPServerError(description: "\(call): \(String(cString: strerror(code)))")
    }
}
