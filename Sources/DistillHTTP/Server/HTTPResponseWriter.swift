import Synchronization

/// Writes a streamed response body for one request. The server hands one to a `.stream` body's closure.
///
/// Writes are queued to the server's I/O thread and never block. Chunked framing is added when the response had no
/// Content-Length. `reset()` makes the server abort the connection with a TCP RST once queued bytes are out, the way
/// a crashing upstream would.
public final class HTTPResponseWriter: Sendable {
    let connection: UInt64
    let mailbox: ServerMailbox
    let chunked: Bool
    private let ended = Mutex(false)

    init(connection: UInt64, mailbox: ServerMailbox, chunked: Bool) {
        self.connection = connection
        self.mailbox = mailbox
        self.chunked = chunked
    }

    /// Queues body bytes for sending.
    public func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !ended.withLock({ $0 }) else { return }
        if chunked {
            var framed = Array(String(bytes.count, radix: 16).utf8) + [13, 10]
            framed += bytes
            framed += [13, 10]
            mailbox.post(.send(connection, framed))
        } else {
            mailbox.post(.send(connection, bytes))
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Aborts the connection (RST) after the bytes queued so far; nothing more is sent.
    public func reset() {
        guard !ended.withLock({ e in defer { e = true }; return e }) else { return }
        mailbox.post(.reset(connection))
    }

    /// Closes the connection after the bytes queued so far, without finishing the body (a clean FIN mid-body).
    public func close() {
        guard !ended.withLock({ e in defer { e = true }; return e }) else { return }
        mailbox.post(.close(connection))
    }

    /// Ends the body normally; called by the server when the stream closure returns.
    func finish(keepAlive: Bool) {
        guard !ended.withLock({ e in defer { e = true }; return e }) else { return }
        if chunked { mailbox.post(.send(connection, Array("0\r\n\r\n".utf8))) }
        mailbox.post(.finish(connection, keepAlive: keepAlive))
    }
}
