import CCurl
import Glibc
import Synchronization

/// One request in flight: its easy handle (while on the driver), the response as it arrives, and the lifecycle
/// shared with the caller's task.
///
/// Everything but `lifecycle` is touched only by the driver thread (libcurl calls the callbacks from inside
/// `curl_multi_socket_action` on that thread), hence `@unchecked Sendable`.
final class CurlTransfer: @unchecked Sendable {
    typealias Continuation = CheckedContinuation<HTTPResponse, any Error>

    let request: HTTPRequest
    let timeouts: HTTPTimeouts
    let lifecycle = Mutex(TransferLifecycle<Continuation>())

    // Driver-thread state.
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var status = 0
    var responseHeaders: [(name: String, value: String)] = []
    var body: [UInt8] = []
    /// Monotonic time of the last byte received (or of the start), for the idle timeout.
    var lastActivity: UInt64 = monotonicNanos()
    /// The idle limit in nanoseconds, or 0 for none.
    let idleLimit: UInt64
    /// libcurl writes its detailed error message here (CURLOPT_ERRORBUFFER needs CURL_ERROR_SIZE bytes).
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(request: HTTPRequest, timeouts: HTTPTimeouts) {
        self.request = request
        self.timeouts = timeouts
        idleLimit = timeouts.idle.map { UInt64(max(1, milliseconds($0))) * 1_000_000 } ?? 0
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// Resumes the caller with the result unless it was already resumed (e.g. cancelled).
    func finish(_ result: Result<HTTPResponse, any Error>) {
        if let continuation = lifecycle.withLock({ $0.complete() }) { continuation.resume(with: result) }
    }

    /// Sets every option on a fresh (or reset) easy handle. Driver thread only.
    func configure(_ h: UnsafeMutableRawPointer, config: HTTPClient.Configuration) throws(HTTPClientError) {
        easy = h
        let me = UnsafeMutableRawPointer(Unmanaged.passUnretained(self).toOpaque())
        try check(ccurl_setopt_str(h, CURLOPT_URL, request.url), "URL")
        try check(ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(ccurl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try check(ccurl_setopt_ptr(h, CURLOPT_PRIVATE, me), "PRIVATE")
        try check(ccurl_setopt_data_cb(h, CURLOPT_WRITEFUNCTION, curlWriteBody), "WRITEFUNCTION")
        try check(ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, me), "WRITEDATA")
        try check(ccurl_setopt_data_cb(h, CURLOPT_HEADERFUNCTION, curlWriteHeader), "HEADERFUNCTION")
        try check(ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, me), "HEADERDATA")
        try check(ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(timeouts.connect)), "CONNECTTIMEOUT_MS")
        try check(ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, timeouts.total.map(milliseconds) ?? 0), "TIMEOUT_MS")
        // The idle timeout is enforced by the driver from `lastActivity`: libcurl's LOW_SPEED_* averages over a
        // several-second window and so fires seconds late after a burst.
        lastActivity = monotonicNanos()
        try check(ccurl_setopt_long(h, CURLOPT_TCP_NODELAY, 1), "TCP_NODELAY")
        try check(ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1), "TCP_KEEPALIVE")
        if config.acceptCompressed {
            // "" = every encoding this libcurl decodes (gzip, deflate, br, zstd as built).
            try check(ccurl_setopt_str(h, CURLOPT_ACCEPT_ENCODING, ""), "ACCEPT_ENCODING")
        }
        if config.allowHTTP2 {
            try check(ccurl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)), "HTTP_VERSION")
            // Over TLS, prefer waiting for a multiplexed HTTP/2 connection to opening parallel ones. Not for plain
            // http: there it would queue transfers behind one HTTP/1.1 connection.
            if request.url.lowercased().hasPrefix("https:") {
                try check(ccurl_setopt_long(h, CURLOPT_PIPEWAIT, 1), "PIPEWAIT")
            }
        } else {
            try check(ccurl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)), "HTTP_VERSION")
        }
        try check(ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, config.verifyTLS ? 1 : 0), "SSL_VERIFYPEER")
        try check(ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, config.verifyTLS ? 2 : 0), "SSL_VERIFYHOST")
        if let ca = config.caBundlePath { try check(ccurl_setopt_str(h, CURLOPT_CAINFO, ca), "CAINFO") }
        try check(ccurl_setopt_str(h, CURLOPT_USERAGENT, config.userAgent), "USERAGENT")
        try configureMethodAndBody(h)
        // "Expect:" turns off libcurl's 100-continue round trip for larger bodies.
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        headerList = list
        try check(ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, list), "HTTPHEADER")
    }

    private func configureMethodAndBody(_ h: UnsafeMutableRawPointer) throws(HTTPClientError) {
        let method = request.method.uppercased()
        if method == "GET" && request.body.isEmpty {
            try check(ccurl_setopt_long(h, CURLOPT_HTTPGET, 1), "HTTPGET")
            return
        }
        if method == "HEAD" {
            try check(ccurl_setopt_long(h, CURLOPT_NOBODY, 1), "NOBODY")
            return
        }
        try check(ccurl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)), "POSTFIELDSIZE")
        // COPYPOSTFIELDS copies the bytes, so the body needs no lifetime management here.
        var bytes = request.body
        if bytes.isEmpty { bytes = [0] }  // a valid pointer; POSTFIELDSIZE 0 sends nothing
        let code = bytes.withUnsafeMutableBytes { ccurl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        try check(code, "COPYPOSTFIELDS")
        if method != "POST" { try check(ccurl_setopt_str(h, CURLOPT_CUSTOMREQUEST, method), "CUSTOMREQUEST") }
    }

    /// A header line from libcurl (CRLF included): a status line starts a new response (1xx interim, redirects);
    /// others are fields. Works on the bytes: this runs for every header of every response.
    func receiveHeaderLine(_ line: UnsafeBufferPointer<UInt8>) {
        var end = line.count
        while end > 0, line[end - 1] == 10 || line[end - 1] == 13 { end -= 1 }
        if end >= 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
           line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/") {
            responseHeaders.removeAll(keepingCapacity: true)
            // "HTTP/1.1 200 OK": the three digits after the first space.
            var i = 5
            while i < end, line[i] != 32 { i += 1 }
            var code = 0
            var digits = 0
            i += 1
            while i < end, digits < 3, line[i] >= 48, line[i] <= 57 {
                code = code * 10 + Int(line[i] - 48)
                digits += 1
                i += 1
            }
            status = code
            return
        }
        guard let colon = line[0..<end].firstIndex(of: UInt8(ascii: ":")) else { return }
        var valueStart = colon + 1
        while valueStart < end, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
        var valueEnd = end
        while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self)
        responseHeaders.append((name, value))
    }

    /// libcurl's message for the last failure, or "" if it left none.
    var curlMessage: String { String(cString: errorBuffer) }
}

private func milliseconds(_ d: Duration) -> Int {
    let (seconds, attoseconds) = d.components
    return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
}

/// The one place a `CURLcode` from setting an option becomes a Swift error, with libcurl's own message.
func check(_ code: CURLcode, _ what: StaticString) throws(HTTPClientError) {
    guard code != CURLE_OK else { return }
    let message = "libcurl option \(what): \(String(cString: curl_easy_strerror(code)))"
    if code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL {
        throw HTTPClientError.invalidURL.with(message: message)
    }
    throw HTTPClientError.other(message)
}

/// CURLOPT_WRITEFUNCTION: append body bytes (already decompressed by libcurl).
private let curlWriteBody: ccurl_data_callback = { ptr, size, count, user in
    guard let ptr, let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    transfer.lastActivity = monotonicNanos()
    ptr.withMemoryRebound(to: UInt8.self, capacity: n) { transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    return n
}

/// CURLOPT_HEADERFUNCTION: one header line at a time, CRLF included.
private let curlWriteHeader: ccurl_data_callback = { ptr, size, count, user in
    guard let ptr, let user else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    transfer.lastActivity = monotonicNanos()
    ptr.withMemoryRebound(to: UInt8.self, capacity: n) {
        transfer.receiveHeaderLine(UnsafeBufferPointer(start: $0, count: n))
    }
    return n
}


/// CLOCK_MONOTONIC in nanoseconds (cheap enough for every callback).
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
