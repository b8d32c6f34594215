import Glibc

/// The server's I/O thread: accepts, reads and parses requests, starts handler tasks, writes responses.
///
/// Everything here is touched only by that one thread (hence `@unchecked Sendable`, needed to hand it to the thread
/// once); handler tasks talk to it only through the mailbox.
final class ServerLoop: @unchecked Sendable {
    /// One client connection's state.
    private final class Connection {
        let fd: Int32
        let id: UInt64
        var parser = HTTPRequestParser()
        /// A request is with the handler; later bytes wait in the parser.
        var busy = false
        var sentContinue = false
        var out: [UInt8] = []
        var outOffset = 0
        var closeWhenFlushed = false
        var resetWhenFlushed = false
        var peerClosed = false
        /// The handler's task while `busy`: cancelled when the client goes away before the response is out.
        var task: Task<Void, Never>?
        init(fd: Int32, id: UInt64) {
            self.fd = fd
            self.id = id
        }
        var hasPendingOutput: Bool { outOffset < out.count }
    }

    private let listenFD: Int32
    private let mailbox: ServerMailbox
    private let handler: HTTPServer.Handler
    private var connections: [UInt64: Connection] = [:]
    private var nextID: UInt64 = 1
    private var running = true
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// POLLRDHUP (Linux, <poll.h> under _GNU_SOURCE, which Glibc's module does not export): the peer shut down writing.
    private static let pollRDHUP: Int16 = 0x2000

    init(listenFD: Int32, mailbox: ServerMailbox, handler: @escaping HTTPServer.Handler) {
        self.listenFD = listenFD
        self.mailbox = mailbox
        self.handler = handler
    }

    func run() {
        var fds: [pollfd] = []
        var order: [Connection] = []
        while running {
            fds.removeAll(keepingCapacity: true)
            order.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: mailbox.wakeRead, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
            for c in connections.values {
                // A connection whose request is with the handler is not polled for input (its next request waits
                // anyway), only for the client hanging up: its handler task is then cancelled, so a model stops
                // generating for nobody. Like nginx, a client that shuts down its sending side while it waits is
                // taken as gone. Once noticed, it is not polled again until the handler is done.
                var events: Int16 = c.busy ? (c.peerClosed ? 0 : Self.pollRDHUP) : Int16(POLLIN)
                if c.hasPendingOutput { events |= Int16(POLLOUT) }
                if events == 0 { continue }
                fds.append(pollfd(fd: c.fd, events: events, revents: 0))
                order.append(c)
            }
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 { if errno == EINTR { continue }; break }
            if fds[0].revents != 0 { apply(mailbox.take()) }
            if fds[1].revents != 0 { acceptAll() }
            for (i, c) in order.enumerated() where fds[i + 2].revents != 0 {
                guard connections[c.id] != nil else { continue }
                let ev = fds[i + 2].revents
                if c.busy && ev & (Self.pollRDHUP | Int16(POLLHUP | POLLERR)) != 0 {
                    c.peerClosed = true
                    c.task?.cancel()
                }
                if ev & Int16(POLLOUT) != 0 { flush(c) }
                if !c.busy, ev & Int16(POLLIN | POLLHUP | POLLERR) != 0, connections[c.id] != nil { readAvailable(c) }
            }
        }
        for c in connections.values { Glibc.close(c.fd) }
        connections.removeAll()
        Glibc.close(listenFD)
    }

    private func acceptAll() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }  // EAGAIN, or a transient error (EMFILE): try again on the next poll.
            setNonBlocking(fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let c = Connection(fd: fd, id: nextID)
            nextID += 1
            connections[c.id] = c
        }
    }

    private func readAvailable(_ c: Connection) {
        while true {
            let got = readBuffer.withUnsafeMutableBytes { Glibc.read(c.fd, $0.baseAddress, $0.count) }
            if got > 0 {
                readBuffer.withUnsafeBytes { c.parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
                if got < readBuffer.count { break }
            } else if got == 0 {
                c.peerClosed = true
                break
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { drop(c); return }
                break
            }
        }
        if !c.busy { parseNext(c) }
        if c.peerClosed && !c.busy && !c.hasPendingOutput { drop(c) }
    }

    /// Takes the next complete request off the connection, if any, and starts its handler.
    private func parseNext(_ c: Connection) {
        switch c.parser.next() {
        case .needMore(let wantsContinue):
            if wantsContinue && !c.sentContinue {
                c.sentContinue = true
                enqueue(c, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
        case .invalid(let why):
            c.busy = true
            c.closeWhenFlushed = true
            let response = HTTPServerResponse(status: 400, headers: [("Content-Type", "text/plain")], text: why + "\n")
            enqueue(c, response.head(chunked: false, keepAlive: false, contentLength: why.utf8.count + 1)
                + Array((why + "\n").utf8))
        case .request(let request):
            c.busy = true
            c.sentContinue = false
            let id = c.id
            let mailbox = mailbox
            let handler = handler
            c.task = Task.detached { await Self.respond(to: request, connection: id, mailbox: mailbox, handler: handler) }
        }
    }

    /// Runs the handler and queues its response (on the handler's task, not the I/O thread).
    private static func respond(to request: HTTPServerRequest, connection id: UInt64, mailbox: ServerMailbox,
                                handler: HTTPServer.Handler) async {
        let response = await handler(request)
        if response.hangUp {
            mailbox.post(.close(id))
            return
        }
        let keepAlive = request.keepAlive && !response.closeConnection
        let headOnly = request.method == "HEAD" || response.status == 204 || response.status == 304
        switch response.body {
        case .bytes(let body):
            var bytes = response.head(chunked: false, keepAlive: keepAlive, contentLength: body.count)
            if !headOnly { bytes += body }
            mailbox.post(.send(id, bytes))
            mailbox.post(.finish(id, keepAlive: keepAlive))
        case .stream(let produce):
            let chunked = response.header("content-length") == nil
            mailbox.post(.send(id, response.head(chunked: chunked, keepAlive: keepAlive, contentLength: nil)))
            let writer = HTTPResponseWriter(connection: id, mailbox: mailbox, chunked: chunked)
            await produce(writer)
            writer.finish(keepAlive: keepAlive)
        }
    }

    private func apply(_ commands: [ServerCommand]) {
        for command in commands {
            switch command {
            case .stop:
                running = false
            case .send(let id, let bytes):
                if let c = connections[id] { enqueue(c, bytes) }
            case .finish(let id, let keepAlive):
                guard let c = connections[id] else { continue }
                c.busy = false
                c.task = nil
                if !keepAlive || c.peerClosed {
                    c.closeWhenFlushed = true
                    flush(c)
                } else {
                    flush(c)
                    if connections[id] != nil, c.parser.hasBufferedBytes { parseNext(c) }
                }
                // Bytes that arrived while busy are read on the next poll, which includes this connection again.
            case .close(let id):
                guard let c = connections[id] else { continue }
                c.closeWhenFlushed = true
                flush(c)
            case .reset(let id):
                guard let c = connections[id] else { continue }
                c.resetWhenFlushed = true
                flush(c)
            }
        }
    }

    private func enqueue(_ c: Connection, _ bytes: [UInt8]) {
        c.out += bytes
        flush(c)
    }

    /// Writes what the socket takes now; closes or resets the connection once everything queued is out.
    private func flush(_ c: Connection) {
        while c.hasPendingOutput {
            let sent = c.out.withUnsafeBytes { buf in
                send(c.fd, buf.baseAddress! + c.outOffset, c.out.count - c.outOffset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                c.outOffset += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else {
                drop(c)
                return
            }
        }
        c.out.removeAll(keepingCapacity: c.out.capacity <= 1 << 16)
        c.outOffset = 0
        if c.resetWhenFlushed {
            // SO_LINGER with a zero timeout makes close(2) send RST instead of FIN.
            var lin = linger(l_onoff: 1, l_linger: 0)
            setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lin, socklen_t(MemoryLayout<linger>.size))
            drop(c)
        } else if c.closeWhenFlushed || (c.peerClosed && !c.busy) {
            drop(c)
        }
    }

    private func drop(_ c: Connection) {
        guard connections.removeValue(forKey: c.id) != nil else { return }
        c.task?.cancel()  // a response that can no longer be delivered (the client reset the connection)
        Glibc.close(c.fd)
    }
}
