import CCurl
import Foundation
import Glibc

/// The one thread that owns the curl multi handle and performs every transfer.
///
/// Callers never block: they post commands to the inbox and a byte on a wake pipe interrupts `epoll_wait`.
/// The loop is libcurl's event API: libcurl says which sockets to watch (socket callback) and when to call back
/// (timer callback); `curl_multi_socket_action` is told which socket is ready, so a wake-up costs the same with 1,000
/// transfers in flight as with one. Finished transfers resume their caller's continuation from here.
/// The multi handle keeps the connection cache, so keep-alive connections (and HTTP/2 streams) are reused across
/// requests; finished easy handles are reset and kept for reuse.
final class CurlDriver: @unchecked Sendable {
    enum Command: Sendable {
        case add(CurlTransfer)
        case abort(CurlTransfer)
        case shutdown
    }

    /// `curl_global_init` exactly once per process (libcurl requires it before any other call, not thread-safe).
    static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    private let multi: UnsafeMutableRawPointer
    private let config: HTTPClient.Configuration
    /// Commands from callers, and the pipe whose byte interrupts `epoll_wait`.
    private let inbox: WakePipeMailbox<Command>
    private let stopped = DispatchSemaphore(value: 0)
    private let epoll: Int32

    // Driver-thread state.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []
    /// Sockets registered with epoll, so the socket callback knows ADD from MOD.
    private var watched: Set<Int32> = []
    /// When libcurl wants `socket_action(CURL_SOCKET_TIMEOUT)` next (monotonic ns), if at all.
    private var timerDeadline: UInt64?

    init(config: HTTPClient.Configuration) throws(HTTPClientError) {
        guard Self.globalInit, let multi = curl_multi_init() else { throw .other("libcurl failed to initialise") }
        let ep = ccurl_epoll_create()
        let inbox: WakePipeMailbox<Command>
        do throws(WakePipeMailbox<Command>.PipeFailed) {
            guard ep >= 0 else { throw WakePipeMailbox<Command>.PipeFailed(code: errno) }
            inbox = try WakePipeMailbox()
        } catch {
            if ep >= 0 { Glibc.close(ep) }
            curl_multi_cleanup(multi)
            throw .other("epoll/pipe: \(String(cString: strerror(error.code)))")
        }
        self.inbox = inbox
        self.multi = multi
        self.config = config
        epoll = ep
        _ = ccurl_epoll_ctl(ep, EPOLL_CTL_ADD, inbox.wakeRead, EPOLLIN.rawValue)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, config.maxConnections)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        // The driver outlives the multi handle's callbacks: both end in run() before `stopped` is signalled.
        let me = UnsafeMutableRawPointer(Unmanaged.passUnretained(self).toOpaque())
        _ = ccurl_multi_setopt_socket_cb(multi, curlSocketCallback)
        _ = ccurl_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, me)
        _ = ccurl_multi_setopt_timer_cb(multi, curlTimerCallback)
        _ = ccurl_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, me)
        let thread = Thread { [self] in run() }
        thread.name = "distill-curl"
        thread.start()
    }

    func post(_ command: Command) {
        inbox.post(command)
    }

    /// Aborts everything in flight and waits for the thread to end.
    func shutdown() {
        post(.shutdown)
        stopped.wait()
    }

    private func run() {
        var running: Int32 = 0
        var alive = true
        var readyFDs = [Int32](repeating: 0, count: 256)
        var readyEvents = [UInt32](repeating: 0, count: 256)
        while alive {
            let n = ccurl_epoll_wait(epoll, &readyFDs, &readyEvents, 256, waitMillis())
            var woken = false
            for i in 0..<max(0, Int(n)) {
                let fd = readyFDs[i]
                if fd == inbox.wakeRead {
                    woken = true
                    continue
                }
                let ev = readyEvents[i]
                var mask: Int32 = 0
                if ev & EPOLLIN.rawValue != 0 { mask |= CURL_CSELECT_IN }
                if ev & EPOLLOUT.rawValue != 0 { mask |= CURL_CSELECT_OUT }
                if ev & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { mask |= CURL_CSELECT_ERR }
                curl_multi_socket_action(multi, fd, mask, &running)
            }
            // Queued commands always come with a wake byte, so the inbox is read only when its pipe is readable.
            for command in woken ? inbox.take() : [] {
                switch command {
                case .add(let transfer): start(transfer)
                case .abort(let transfer): stop(transfer, with: .cancelled)
                case .shutdown: alive = false
                }
            }
            if let deadline = timerDeadline, monotonicNanos() >= deadline {
                timerDeadline = nil
                curl_multi_socket_action(multi, -1, 0, &running)  // CURL_SOCKET_TIMEOUT
            }
            collectFinished()
            expireIdle()
        }
        for transfer in Array(active.values) { stop(transfer, with: .shutdown) }
        // Commands that raced with shutdown still get an answer.
        for command in inbox.take() {
            if case .add(let transfer) = command { transfer.finish(.failure(HTTPClientError.shutdown)) }
        }
        for h in spareHandles { curl_easy_cleanup(h) }
        curl_multi_cleanup(multi)
        Glibc.close(epoll)
        stopped.signal()
    }

    /// How long epoll may sleep: until libcurl's timer, the next idle check, or a second.
    private func waitMillis() -> Int32 {
        var ms: Int64 = active.isEmpty ? 1000 : Int64(Self.idleCheckMillis)
        if let deadline = timerDeadline {
            let now = monotonicNanos()
            ms = min(ms, deadline > now ? Int64((deadline - now + 999_999) / 1_000_000) : 0)
        }
        return Int32(ms)
    }

    /// libcurl's socket callback: watch `fd` for `what` (CURL_POLL_IN 1, OUT 2, INOUT 3) or stop (REMOVE 4).
    fileprivate func watch(_ fd: Int32, _ what: Int32) {
        if what == 4 {  // CURL_POLL_REMOVE
            if watched.remove(fd) != nil { _ = ccurl_epoll_ctl(epoll, EPOLL_CTL_DEL, fd, 0) }
            return
        }
        var events: UInt32 = 0
        if what & 1 != 0 { events |= EPOLLIN.rawValue }
        if what & 2 != 0 { events |= EPOLLOUT.rawValue }
        if watched.contains(fd) {
            _ = ccurl_epoll_ctl(epoll, EPOLL_CTL_MOD, fd, events)
        } else if ccurl_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, events) == 0 {
            watched.insert(fd)
        } else if errno == EEXIST {
            // libcurl reused a descriptor number we still had registered: update it instead.
            _ = ccurl_epoll_ctl(epoll, EPOLL_CTL_MOD, fd, events)
            watched.insert(fd)
        }
    }

    /// libcurl's timer callback: call back in `ms` milliseconds (0: at once), or never (-1).
    fileprivate func setTimer(_ ms: Int) {
        timerDeadline = ms < 0 ? nil : monotonicNanos() + UInt64(ms) * 1_000_000
    }

    private func start(_ transfer: CurlTransfer) {
        guard let h = spareHandles.popLast() ?? curl_easy_init() else {
            transfer.finish(.failure(HTTPClientError.other("curl_easy_init failed")))
            return
        }
        do {
            try transfer.configure(h, config: config)
        } catch {
            recycle(h)
            transfer.finish(.failure(error))
            return
        }
        let code = curl_multi_add_handle(multi, h)
        guard code == CURLM_OK else {
            recycle(h)
            transfer.finish(.failure(HTTPClientError.other("curl_multi_add_handle: \(String(cString: curl_multi_strerror(code)))")))
            return
        }
        active[h] = transfer
    }

    private func stop(_ transfer: CurlTransfer, with error: HTTPClientError) {
        guard let h = transfer.easy, active.removeValue(forKey: h) != nil else { return }
        curl_multi_remove_handle(multi, h)
        recycle(h)
        transfer.easy = nil
        transfer.finish(.failure(error))
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let h = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            guard let transfer = active.removeValue(forKey: h) else { continue }
            var version = 0
            _ = ccurl_getinfo_long(h, CURLINFO_HTTP_VERSION, &version)
            let result: Result<HTTPResponse, any Error>
            if code == CURLE_OK {
                let httpVersion = version >= Int(CURL_HTTP_VERSION_3) ? 3 : version >= Int(CURL_HTTP_VERSION_2_0) ? 2 : 1
                result = .success(HTTPResponse(status: transfer.status, headers: transfer.responseHeaders,
                                               body: transfer.body, httpVersion: httpVersion))
            } else {
                result = .failure(Self.error(for: code, message: transfer.curlMessage, transfer: transfer))
            }
            curl_multi_remove_handle(multi, h)
            recycle(h)
            transfer.easy = nil
            transfer.finish(result)
        }
    }

    /// How often idle transfers are looked for; bounds how late an idle timeout fires.
    static let idleCheckMillis = 50
    private var lastIdleCheck: UInt64 = 0

    /// Aborts transfers that have received nothing for longer than their idle limit.
    private func expireIdle() {
        let now = monotonicNanos()
        guard now - lastIdleCheck >= UInt64(Self.idleCheckMillis) * 1_000_000 else { return }
        lastIdleCheck = now
        for transfer in active.values {
            let limit = transfer.idleLimit
            if limit > 0, now > transfer.lastActivity, now - transfer.lastActivity > limit {
                let ms = limit / 1_000_000
                stop(transfer, with: HTTPClientError.idleTimeout.with(message: "no data received for \(ms) ms"))
            }
        }
    }

    private func recycle(_ h: UnsafeMutableRawPointer) {
        curl_easy_reset(h)
        if spareHandles.count < 256 { spareHandles.append(h) } else { curl_easy_cleanup(h) }
    }

    /// Maps a libcurl result to the error kinds callers retry on.
    static func error(for code: CURLcode, message: String, transfer: CurlTransfer) -> HTTPClientError {
        let detail = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            if detail.contains("too slow") { return HTTPClientError.idleTimeout.with(message: "idle timeout: " + detail) }
            if detail.lowercased().contains("connect") && transfer.status == 0 {
                return HTTPClientError.connectTimeout.with(message: detail)
            }
            return HTTPClientError.totalTimeout.with(message: detail)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return HTTPClientError.connectionFailed.with(message: detail)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return HTTPClientError.connectionLost.with(message: detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPClientError.invalidURL.with(message: detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return HTTPClientError.tls.with(message: detail)
        default:
            return HTTPClientError.other(detail)
        }
    }
}

/// CURLMOPT_SOCKETFUNCTION, called from inside libcurl on the driver thread.
private let curlSocketCallback: ccurl_socket_callback = { _, fd, what, user, _ in
    guard let user else { return 0 }
    Unmanaged<CurlDriver>.fromOpaque(user).takeUnretainedValue().watch(fd, what)
    return 0
}

/// CURLMOPT_TIMERFUNCTION, called from inside libcurl on the driver thread.
private let curlTimerCallback: ccurl_timer_callback = { _, ms, user in
    guard let user else { return 0 }
    Unmanaged<CurlDriver>.fromOpaque(user).takeUnretainedValue().setTimer(ms)
    return 0
}
