import Foundation

/// An async HTTP client over libcurl: `try await client.send(request)`.
///
/// One dedicated thread runs every transfer through a curl multi handle (see `CurlDriver`), so the cooperative pool
/// is never blocked however many requests are in flight. Task cancellation aborts the transfer, including a cancel
/// that lands before the driver has seen it. Keep-alive connections are reused, HTTP/2 is used (and multiplexed)
/// when a TLS server offers it, TLS peers are verified by default, gzip bodies are decoded.
public final class HTTPClient: HTTPSending, Sendable {
    public struct Configuration: Sendable {
        public var timeouts: HTTPTimeouts
        public var verifyTLS: Bool
        /// A PEM CA bundle to verify against instead of the system one.
        public var caBundlePath: String?
        public var allowHTTP2: Bool
        public var acceptCompressed: Bool
        /// Connections kept open in the cache for reuse.
        public var maxConnections: Int
        public var userAgent: String

        public init(timeouts: HTTPTimeouts = HTTPTimeouts(), verifyTLS: Bool = true, caBundlePath: String? = nil,
                    allowHTTP2: Bool = true, acceptCompressed: Bool = true, maxConnections: Int = 1024,
                    userAgent: String = "distill/0.1") {
            self.timeouts = timeouts
            self.verifyTLS = verifyTLS
            self.caBundlePath = caBundlePath
            self.allowHTTP2 = allowHTTP2
            self.acceptCompressed = acceptCompressed
            self.maxConnections = maxConnections
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    private let driver: CurlDriver

    public init(configuration: Configuration = Configuration()) throws(HTTPClientError) {
        self.configuration = configuration
        driver = try CurlDriver(config: configuration)
    }

    deinit { driver.shutdown() }

    /// Sends the request and returns the whole response. Throws `HTTPClientError` for transport failures
    /// (any HTTP status, 4xx and 5xx included, is a response, not an error) and `.cancelled` when the task is.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = CurlTransfer(request: request, timeouts: request.timeouts ?? configuration.timeouts)
        let driver = driver
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CurlTransfer.Continuation) in
                switch transfer.lifecycle.withLock({ $0.register(continuation) }) {
                case .submit: driver.post(.add(transfer))
                case .failCancelled(let c): c.resume(throwing: HTTPClientError.cancelled)
                }
            }
        } onCancel: {
            if case .abortTransfer = transfer.lifecycle.withLock({ $0.cancel() }) { driver.post(.abort(transfer)) }
        }
    }
}
