import Foundation

/// One request as the server received it: request line, headers in arrival order, and the whole body.
public struct HTTPServerRequest: Sendable {
    public var method: String
    /// The request target as sent (`/v1/chat/completions?x=1`).
    public var target: String
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, target: String, version: String = "HTTP/1.1",
                headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The target without its query string.
    public var path: String {
        if let q = target.firstIndex(of: "?") { return String(target[..<q]) }
        return target
    }

    /// The first header with this name (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// Whether the connection stays open after this request (HTTP/1.1 default yes; 1.0 only if asked).
    var keepAlive: Bool {
        let connection = header("connection")?.lowercased() ?? ""
        if version == "HTTP/1.0" { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }
}

/// What the handler answers: a status, headers, and a body that is either whole or written over time.
public struct HTTPServerResponse: Sendable {
    /// The body: bytes sent with a Content-Length, or a writer that streams it.
    public enum Body: Sendable {
        case bytes([UInt8])
        /// The closure writes the body through the writer, at its own pace. Without a `Content-Length` header the
        /// server frames it with chunked encoding; with one, the bytes go out as written (so a writer can stop
        /// short and reset, as a failing upstream would).
        case stream(@Sendable (HTTPResponseWriter) async -> Void)
    }

    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Body
    /// Close the connection after this response even if the client wanted keep-alive.
    public var closeConnection: Bool
    /// Send nothing at all and close the connection (a server that hangs up).
    public var hangUp: Bool

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Body = .bytes([]),
                closeConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.closeConnection = closeConnection
        self.hangUp = false
    }

    /// A response with a UTF-8 text or JSON body.
    public init(status: Int, headers: [(name: String, value: String)] = [], text: String) {
        self.init(status: status, headers: headers, body: .bytes(Array(text.utf8)))
    }

    /// Closes the connection without answering.
    public static var hangUp: HTTPServerResponse {
        var r = HTTPServerResponse(status: 0)
        r.hangUp = true
        return r
    }

    func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// The status line and headers, with framing and connection headers added.
    func head(chunked: Bool, keepAlive: Bool, contentLength: Int?) -> [UInt8] {
        var s = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower == "connection" || (chunked && lower == "content-length") { continue }
            s += "\(name): \(value)\r\n"
        }
        if chunked {
            s += "Transfer-Encoding: chunked\r\n"
        } else if let contentLength, header("content-length") == nil {
            s += "Content-Length: \(contentLength)\r\n"
        }
        s += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(s.utf8)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status \(status)"
        }
    }
}

/// Header names are ASCII (RFC 9110 §5.1); comparing bytes avoids Foundation's locale-aware compare on a hot path.
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    var i = a.utf8.makeIterator()
    var j = b.utf8.makeIterator()
    while true {
        switch (i.next(), j.next()) {
        case (nil, nil): return true
        case (let x?, let y?):
            if x != y && (x | 0x20) != (y | 0x20) { return false }
            if x != y && !((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A) { return false }
        default: return false
        }
    }
}
