import DistillHTTP

/// Why a chat request to a teacher failed, with what the provider said and what the retry policy needs.
///
/// Messages are redacted of the API key before they are stored, so printing or logging one is safe.
public struct TeacherError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server answered with a non-2xx status.
        case http(status: Int)
        /// A 429 whose body says `insufficient_quota`: out of credit. Retrying cannot help; stop the run.
        case insufficientQuota
        /// No complete response (connect failure, reset, timeout, cancellation).
        case transport(HTTPClientError)
        /// A 2xx whose body is not a chat completion (invalid JSON, missing choices).
        case invalidResponse
        /// The request cannot be sent as given (e.g. a json_schema that is not JSON); nothing was sent.
        case invalidRequest
        /// The endpoint names a key variable that is not set.
        case missingKey(env: String)
    }

    public var kind: Kind
    /// The provider's message (or ours), key redacted.
    public var message: String
    /// The provider's `error.type` and `error.code`, when it sent them.
    public var providerType: String?
    public var providerCode: String?
    /// Response headers of a failed HTTP exchange (Retry-After, x-ratelimit-*, x-should-retry).
    public var headers: [(name: String, value: String)]
    /// How many attempts were made before giving up (set by the retry loop).
    public var attempts: Int

    public init(kind: Kind, message: String, providerType: String? = nil, providerCode: String? = nil,
                headers: [(name: String, value: String)] = [], attempts: Int = 1) {
        self.kind = kind
        self.message = message
        self.providerType = providerType
        self.providerCode = providerCode
        self.headers = headers
        self.attempts = attempts
    }

    public var status: Int? {
        switch kind {
        case .http(let status): status
        case .insufficientQuota: 429
        default: nil
        }
    }

    public var isInsufficientQuota: Bool { kind == .insufficientQuota }
    public var isRateLimited: Bool { kind == .http(status: 429) }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    public var description: String {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        switch kind {
        case .http(let status):
            let code = providerCode.map { " [\($0)]" } ?? ""
            return "teacher answered HTTP \(status)\(code): \(message)\(tries)"
        case .insufficientQuota:
            return "teacher account is out of quota (429 insufficient_quota): \(message). "
                + "Add credit or switch key; retrying will not help."
        case .transport(let e):
            return "teacher unreachable: \(e.message)\(tries)"
        case .invalidResponse:
            return "teacher sent a response that is not a chat completion: \(message)\(tries)"
        case .invalidRequest:
            return "invalid request: \(message)"
        case .missingKey(let env):
            return "environment variable \(env) is not set (it should hold the API key for this endpoint)"
        }
    }
}
