import DistillHTTP
import Foundation
import Synchronization

/// The teacher stand-in's server: a real `HTTPServer` on 127.0.0.1 (ephemeral port) answering chat completions the
/// way the test's handler says, optionally enforcing RPM/TPM limits over a sliding window like a provider would.
public final class TeacherStandIn: Sendable {
    private struct State {
        var requests: [StandInRequest] = []
        var limits: StandInLimits
    }

    /// Shared between the server's handler tasks and the test's thread.
    private final class Shared: Sendable {
        let lock: Mutex<State>
        init(_ limits: StandInLimits) { lock = Mutex(State(limits: limits)) }
    }

    private let server: HTTPServer
    private let shared: Shared

    /// Starts serving on 127.0.0.1 at an ephemeral port.
    ///
    /// - Parameters:
    ///   - rpm, tpm: request and token limits per `window` (one minute unless told otherwise). A request costs its
    ///     prompt estimate (UTF-8 bytes of all message contents / 4, rounded up) plus `max_tokens`. Over either
    ///     limit the reply is a 429 with `retry-after`, `retry-after-ms` and an OpenAI-shaped error body; every
    ///     reply carries `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`.
    ///   - window: the sliding window the limits apply to. Tests may shorten it to exercise a limit quickly.
    ///   - handler: decides the reply to every admitted request.
    public init(rpm: Int? = nil, tpm: Int? = nil, window: Duration = .seconds(60),
                handler: @escaping @Sendable (StandInRequest) async -> StandInReply) throws {
        let shared = Shared(StandInLimits(requestsPerWindow: rpm, tokensPerWindow: tpm, window: window))
        self.shared = shared
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            // The model list (harvest asks it once, to see whether the endpoint is distill serve) is answered as a
            // provider would, outside the counted and rate-limited chat requests.
            if request.method == "GET" && request.path.hasSuffix("/models") {
                return HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")],
                                          text: #"{"object":"list","data":[{"id":"stand-in","object":"model","owned_by":"stand-in"}]}"#)
            }
            let clock = ContinuousClock.now
            let (received, verdict) = shared.lock.withLock { s -> (StandInRequest, StandInLimits.Verdict) in
                let r = StandInRequest(method: request.method, path: request.path, headers: request.headers,
                                       body: Data(request.body), sequence: s.requests.count + 1)
                s.requests.append(r)
                let verdict = s.limits.admit(cost: StandInLimits.cost(of: r), now: clock)
                return (r, verdict)
            }
            if let rejection = verdict.rejection {
                return await StandInReply.render(rejection, for: received, extraHeaders: verdict.headers)
            }
            let reply = await handler(received)
            return await StandInReply.render(reply, for: received, extraHeaders: verdict.headers)
        }
    }

    deinit { server.stop() }

    public var port: Int { server.port }
    /// `http://127.0.0.1:PORT/v1`, the base URL a client is given.
    public var baseURL: String { "http://127.0.0.1:\(server.port)/v1" }
    /// How many requests arrived (including ones refused with 429).
    public var requestCount: Int { shared.lock.withLock { $0.requests.count } }
    /// Everything received, in arrival order.
    public var requests: [StandInRequest] { shared.lock.withLock { $0.requests } }
    /// How many requests were refused by the RPM/TPM limits.
    public var rateLimitedCount: Int { shared.lock.withLock { $0.limits.rejected } }

    /// Stops listening and closes every connection.
    public func stop() { server.stop() }
}
