/// One HTTP request for `HTTPClient`: method, absolute URL, headers, body, and optional per-request timeouts.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Overrides the client's default timeouts for this request.
    public var timeouts: HTTPTimeouts?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: [UInt8] = [], timeouts: HTTPTimeouts? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }
}

/// Connect, total and idle limits. `idle` aborts a transfer that has received nothing for that long, counted from
/// the start and from every byte after (a stalled server, a trickle that stops). A non-streamed completion sends
/// nothing until it is done, so `idle` must exceed the slowest expected answer (reasoning models: minutes).
public struct HTTPTimeouts: Sendable, Equatable {
    public var connect: Duration
    /// Whole request, connect to last byte; nil for none.
    public var total: Duration?
    public var idle: Duration?

    public init(connect: Duration = .seconds(10), total: Duration? = .seconds(600), idle: Duration? = .seconds(300)) {
        self.connect = connect
        self.total = total
        self.idle = idle
    }
}

/// A complete response: status, headers of the final response (interim 1xx dropped), decoded body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// 1 for HTTP/1.x, 2 for HTTP/2, 3 for HTTP/3.
    public var httpVersion: Int

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], httpVersion: Int = 1) {
        self.status = status
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
    }

    /// The first header with this name (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

/// Anything that sends HTTP requests: the libcurl client, or a scripted stand-in in unit tests.
public protocol HTTPSending: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
