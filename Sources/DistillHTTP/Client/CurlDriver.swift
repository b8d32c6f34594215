import CCurl
import Foundation
import Synchronization

/// The one thread that owns the curl multi handle and performs every transfer.
///
/// Callers never block: they post commands to the inbox and `curl_multi_wakeup` interrupts `curl_multi_poll`
/// ("can be called from any thread", libcurl docs). Finished transfers resume their caller's continuation from here.
/// The multi handle keeps the connection cache, so keep-alive connections (and HTTP/2 streams) are reused across
/// requests; finished easy handles are reset and kept for reuse.
final class CurlDriver: @unchecked Sendable {
    enum Command {
        case add(CurlTransfer)
        case abort(CurlTransfer)
        case shutdown
    }

    /// `curl_global_init` exactly once per process (libcurl requires it before any other call, not thread-safe).
    static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    private let multi: UnsafeMutableRawPointer
    private let config: HTTPClient.Configuration
    private let inbox = Mutex<[Command]>([])
    private let stopped = DispatchSemaphore(value: 0)

    // Driver-thread state.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []

    init(config: HTTPClient.Configuration) throws(HTTPClientError) {
        guard Self.globalInit, let multi = curl_multi_init() else { throw .other("libcurl failed to initialise") }
        self.multi = multi
        self.config = config
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, config.maxConnections)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        let thread = Thread { [self] in run() }
        thread.name = "distill-curl"
        thread.start()
    }

    func post(_ command: Command) {
        inbox.withLock { $0.append(command) }
        curl_multi_wakeup(multi)
    }

    /// Aborts everything in flight and waits for the thread to end.
    func shutdown() {
        post(.shutdown)
        stopped.wait()
    }

    private func run() {
        var running: Int32 = 0
        var alive = true
        while alive {
            let commands = inbox.withLock { box in defer { box.removeAll(keepingCapacity: true) }; return box }
            for command in commands {
                switch command {
                case .add(let transfer): start(transfer)
                case .abort(let transfer): stop(transfer, with: .cancelled)
                case .shutdown: alive = false
                }
            }
            if !alive { break }
            curl_multi_perform(multi, &running)
            collectFinished()
            expireIdle()
            curl_multi_poll(multi, nil, 0, active.isEmpty ? 1000 : Int32(Self.idleCheckMillis), nil)
        }
        for transfer in Array(active.values) { stop(transfer, with: .shutdown) }
        // Commands that raced with shutdown still get an answer.
        for command in inbox.withLock({ $0 }) {
            if case .add(let transfer) = command { transfer.finish(.failure(HTTPClientError.shutdown)) }
        }
        for h in spareHandles { curl_easy_cleanup(h) }
        curl_multi_cleanup(multi)
        stopped.signal()
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
