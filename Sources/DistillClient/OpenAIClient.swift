import DistillHTTP
import Foundation

/// One chat completion, as it came back: the decoded response, the response headers (for rate-limit pacing) and
/// how long it took.
public struct ChatExchange: Sendable {
    public var response: ChatResponse
    public var headers: [(name: String, value: String)]
    public var latency: Duration
}

/// An OpenAI-compatible chat-completions client: one request, one attempt, no retries (the retry loop lives in
/// `TeacherClient`, and there must be only one).
///
/// The API key is read from the endpoint's environment variable when the client is made. It goes into the
/// `Authorization` header and nowhere else: every error message is scrubbed of it before it leaves this type.
public final class OpenAIClient: ChatCompleting, Sendable {
    public let endpoint: Endpoint
    private let http: any HTTPSending
    private let key: String?
    private let missingKeyEnv: String?
    private let timeouts: HTTPTimeouts?

    /// - Parameters:
    ///   - http: the transport; an `HTTPClient` in production.
    ///   - environment: where the key variable is looked up (the process environment unless a test says otherwise).
    public init(endpoint: Endpoint, http: any HTTPSending,
                environment: [String: String] = ProcessInfo.processInfo.environment, timeouts: HTTPTimeouts? = nil) {
        self.endpoint = endpoint
        self.http = http
        self.timeouts = timeouts
        if let env = endpoint.keyEnv {
            let value = environment[env].flatMap { $0.isEmpty ? nil : $0 }
            key = value
            missingKeyEnv = value == nil ? env : nil
        } else {
            key = nil
            missingKeyEnv = nil
        }
    }

    /// Whether the endpoint is `distill serve` (its `GET /models` lists the model with `owned_by: "distill"`), which
    /// enforces `response_format: json_schema` by constrained decoding. Any failure (another server, no /models,
    /// no network) is false: the caller then asks as it would anyone.
    public func servesJSONSchema() async -> Bool {
        var base = endpoint.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let key { headers.append(("Authorization", "Bearer " + key)) }
        guard let r = try? await http.send(HTTPRequest(method: "GET", url: base + "/models", headers: headers)), r.status == 200,
              let json = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any],
              let data = json["data"] as? [[String: Any]] else { return false }
        return data.contains { ($0["id"] as? String) == endpoint.model && ($0["owned_by"] as? String) == "distill" }
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        try await exchange(request).response
    }

    /// Sends one request. `idempotencyKey` is passed as `Idempotency-Key` (the same one on every retry of a logical
    /// request); `attempt` (0-based) as `X-Retry-Count`, as openai-python does.
    public func exchange(_ request: ChatRequest, idempotencyKey: String? = nil, attempt: Int = 0) async throws -> ChatExchange {
        if let missingKeyEnv { throw TeacherError(kind: .missingKey(env: missingKeyEnv), message: "missing key") }
        var request = request
        if request.model.isEmpty { request.model = endpoint.model }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let key { headers.append(("Authorization", "Bearer " + key)) }
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        if attempt > 0 { headers.append(("X-Retry-Count", String(attempt))) }
        let body = try ChatWire.encode(request)
        let clock = ContinuousClock()
        let start = clock.now
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(method: "POST", url: endpoint.chatCompletionsURL, headers: headers,
                                                       body: body, timeouts: timeouts))
        } catch let error as HTTPClientError {
            if error == .cancelled { throw CancellationError() }
            throw TeacherError(kind: .transport(error), message: redact(error.message))
        }
        let latency = clock.now - start
        guard (200..<300).contains(response.status) else { throw failure(response) }
        do {
            return ChatExchange(response: try ChatWire.decode(response.body), headers: response.headers, latency: latency)
        } catch {
            var e = error
            e.message = redact(e.message)
            e.headers = response.headers.map { ($0.name, redact($0.value)) }
            throw e
        }
    }

    private func failure(_ response: HTTPResponse) -> TeacherError {
        let (message, type, code) = ChatWire.providerError(response.body)
        let quota = response.status == 429 && (code == "insufficient_quota" || type == "insufficient_quota")
        return TeacherError(kind: quota ? .insufficientQuota : .http(status: response.status), message: redact(message),
                            providerType: type.map(redact), providerCode: code.map(redact),
                            headers: response.headers.map { ($0.name, redact($0.value)) })
    }

    /// Replaces the key wherever it appears (a server may echo what it was sent).
    func redact(_ text: String) -> String {
        guard let key, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "[redacted]")
    }
}
