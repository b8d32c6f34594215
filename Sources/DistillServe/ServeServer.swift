import DistillData
import DistillHTTP
import DistillOpenAI
import Foundation
import Synchronization

/// `distill serve`: the OpenAI protocol over real sockets for one or more local models.
///
/// Routes: `POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models`, `GET /health`, `GET /metrics`.
/// Client mistakes are 400s naming the field (never 500); an unknown model 404; a body over the limit 413; a wrong
/// key 401; a full queue 503 with `Retry-After`. Malformed HTTP closes that connection (the HTTP layer answers 400).
public final class ServeServer: Sendable {
    let models: [String: ServedModel]
    let modelOrder: [String]
    let options: ServeOptions
    public let metrics = ServeMetrics()
    private let draining = Mutex(false)
    private let sequence = Mutex(0)
    private let http: Mutex<HTTPServer?> = Mutex(nil)

    public init(models: [ServedModel], options: ServeOptions) throws {
        var byName: [String: ServedModel] = [:]
        for m in models { byName[m.name] = m }
        self.models = byName
        modelOrder = models.map(\.name)
        self.options = options
        let server = try HTTPServer(host: options.host, port: options.port) { [weak self] request in
            guard let self else { return HTTPServerResponse(status: 503, text: "shutting down\n") }
            return await self.handle(request)
        }
        http.withLock { $0 = server }
    }

    public var port: Int { http.withLock { $0?.port ?? 0 } }

    /// Stops taking requests (503 from now on), lets in-flight ones finish for up to `within`, cancels the rest, and
    /// closes every connection.
    public func shutdown(within: Duration) {
        draining.withLock { $0 = true }
        for name in modelOrder { models[name]?.engine.stop(within: within) }
        // Give the handlers a moment to write what the engines just told them.
        Thread.sleep(forTimeInterval: 0.1)
        let server = http.withLock { s in defer { s = nil }; return s }
        server?.stop()
    }

    func nextSequence() -> Int { sequence.withLock { s in s += 1; return s } }

    func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let start = ContinuousClock.now
        let route = Self.routeName(request.path)
        var response = await respond(request)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        // Streamed replies record their own latency when the stream ends.
        let streamed: Bool = if case .stream = response.body { true } else { false }
        metrics.request(route: route, status: response.status, seconds: streamed ? nil : seconds)
        if !response.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            response.headers.append(("Content-Type", "application/json"))
        }
        return response
    }

    static func routeName(_ path: String) -> String {
        ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"].contains(path) ? path : "other"
    }

    private func respond(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        if draining.withLock({ $0 }) {
            return Self.error(OpenAIError(status: 503, type: "unavailable_error", message: "the server is shutting down"),
                              headers: [("Retry-After", "1")])
        }
        if request.path == "/health" && request.method == "GET" {
            return Self.json(200, .obj([("status", .string("ok"))]))
        }
        if let key = options.apiKey {
            let given = request.header("authorization") ?? ""
            guard Self.constantTimeEqual(given, "Bearer " + key) else {
                return Self.error(OpenAIError(status: 401, type: "authentication_error", code: "invalid_api_key",
                                              message: "invalid or missing API key (send Authorization: Bearer <key>)"))
            }
        }
        guard request.body.count <= options.maxBodyBytes else {
            return Self.error(OpenAIError(status: 413, type: "invalid_request_error", code: "request_too_large",
                                          message: "the body is \(request.body.count) bytes; this server takes at most \(options.maxBodyBytes)"))
        }
        switch (request.method, request.path) {
        case ("GET", "/v1/models"):
            let list = modelOrder.compactMap { models[$0] }.map { (id: $0.name, ownedBy: $0.ownedBy, created: $0.created) }
            return Self.json(200, ModelList.json(list))
        case ("GET", "/metrics"):
            let engines = modelOrder.compactMap { models[$0] }.map { m in
                let c = m.engine.counts
                return (model: m.name, running: c.running, queued: c.queued)
            }
            return HTTPServerResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                      text: metrics.render(engines: engines))
        case ("POST", "/v1/chat/completions"):
            return await chatCompletions(request.body)
        case ("POST", "/v1/completions"):
            return await completions(request.body)
        case (_, "/v1/models"), (_, "/metrics"), (_, "/v1/chat/completions"), (_, "/v1/completions"):
            return Self.error(OpenAIError(status: 405, type: "invalid_request_error",
                                          message: "\(request.method) is not allowed on \(request.path)"))
        default:
            return Self.error(OpenAIError(status: 404, type: "not_found_error", message: "no route \(request.method) \(request.path)"))
        }
    }

    func model(_ name: String) throws(OpenAIError) -> ServedModel {
        if let m = models[name] { return m }
        throw OpenAIError(status: 404, type: "not_found_error", param: "model", code: "model_not_found",
                          message: "the model '\(name)' does not exist here; served: \(modelOrder.joined(separator: ", "))")
    }

    static func json(_ status: Int, _ value: JSONValue, headers: [(name: String, value: String)] = []) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                           body: .bytes(Array(value.compactData())))
    }

    static func error(_ e: OpenAIError, headers: [(name: String, value: String)] = []) -> HTTPServerResponse {
        HTTPServerResponse(status: e.status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(e.body))
    }

    /// Any error as a response: an `OpenAIError` as itself, anything else a 500 (a server fault, not the client's).
    static func failure(_ e: any Error) -> HTTPServerResponse {
        if let e = e as? OpenAIError { return error(e) }
        return error(OpenAIError(status: 500, type: "server_error", message: "\(e)"))
    }

    static let queueFull = OpenAIError(status: 503, type: "unavailable_error", code: "queue_full",
                                       message: "the request queue is full; retry after a second")

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) { diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)) }
        return diff == 0
    }
}
