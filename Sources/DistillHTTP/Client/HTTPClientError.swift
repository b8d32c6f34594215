/// A transport failure: the request never got a complete HTTP response.
///
/// A struct around a private code (as async-http-client does) so cases can be added without breaking callers, who
/// compare with `==` against the static members or ask `isRetryable`. The message is libcurl's own; it never holds
/// request headers (so never an API key).
public struct HTTPClientError: Error, Equatable, CustomStringConvertible, Sendable {
    private enum Code: Equatable, Sendable {
        case cancelled, connectTimeout, totalTimeout, idleTimeout, connectionFailed, connectionLost, tls, invalidURL,
             shutdown, other
    }

    private let code: Code
    /// libcurl's explanation (or ours), for people.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static let cancelled = HTTPClientError(.cancelled, "request cancelled")
    public static let connectTimeout = HTTPClientError(.connectTimeout, "connect timed out")
    public static let totalTimeout = HTTPClientError(.totalTimeout, "request timed out")
    public static let idleTimeout = HTTPClientError(.idleTimeout, "no data received for too long")
    public static let connectionFailed = HTTPClientError(.connectionFailed, "could not connect")
    public static let connectionLost = HTTPClientError(.connectionLost, "connection lost mid-transfer")
    public static let tls = HTTPClientError(.tls, "TLS failure")
    public static let invalidURL = HTTPClientError(.invalidURL, "invalid URL")
    public static let shutdown = HTTPClientError(.shutdown, "client was shut down")

    static func other(_ message: String) -> HTTPClientError { HTTPClientError(.other, message) }

    /// The same kind of error with libcurl's detailed message.
    func with(message: String) -> HTTPClientError { HTTPClientError(code, message) }

    /// Equal when the kind matches; the message is detail.
    public static func == (a: HTTPClientError, b: HTTPClientError) -> Bool { a.code == b.code }

    /// Connection problems and timeouts may succeed on a second try; cancellation, bad URLs and TLS failures won't.
    public var isRetryable: Bool {
        switch code {
        case .connectTimeout, .totalTimeout, .idleTimeout, .connectionFailed, .connectionLost, .other: true
        case .cancelled, .tls, .invalidURL, .shutdown: false
        }
    }

    public var isTimeout: Bool { code == .connectTimeout || code == .totalTimeout || code == .idleTimeout }

    public var description: String { message }
}
