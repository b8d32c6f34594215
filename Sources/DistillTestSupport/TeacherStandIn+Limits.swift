import DistillHTTP
import Foundation

/// The stand-in's provider-style limits: requests and tokens admitted over a sliding window, and the
/// `x-ratelimit-*` headers that describe them. Pure value logic; the server calls `admit` under its lock.
struct StandInLimits {
    struct Verdict {
        var headers: [(name: String, value: String)]
        /// Set when the request is refused: the 429 to send instead of asking the handler.
        var rejection: StandInReply?
    }

    let requestsPerWindow: Int?
    let tokensPerWindow: Int?
    let window: Duration
    /// Admitted requests still inside the window: when, and how many tokens they reserved.
    private var admitted: [(at: ContinuousClock.Instant, tokens: Int)] = []
    private(set) var rejected = 0

    init(requestsPerWindow: Int?, tokensPerWindow: Int?, window: Duration) {
        self.requestsPerWindow = requestsPerWindow
        self.tokensPerWindow = tokensPerWindow
        self.window = window
    }

    /// Token cost of a request as the stand-in meters it: prompt estimate plus `max_tokens`.
    static func cost(of request: StandInRequest) -> Int {
        let json = request.json
        let messages = json?["messages"] as? [[String: Any]] ?? []
        let bytes = messages.reduce(0) { $0 + (($1["content"] as? String)?.utf8.count ?? 0) }
        let maxTokens = (json?["max_tokens"] as? Int) ?? (json?["max_completion_tokens"] as? Int) ?? 0
        return (bytes + 3) / 4 + maxTokens
    }

    mutating func admit(cost: Int, now: ContinuousClock.Instant) -> Verdict {
        guard requestsPerWindow != nil || tokensPerWindow != nil else { return Verdict(headers: []) }
        admitted.removeAll { now - $0.at >= window }
        let usedTokens = admitted.reduce(0) { $0 + $1.tokens }
        var refusal: String?
        if let rpm = requestsPerWindow, admitted.count >= rpm {
            refusal = "Rate limit reached for requests: Limit \(rpm), Used \(admitted.count), Requested 1."
        } else if let tpm = tokensPerWindow, usedTokens + cost > tpm {
            refusal = "Rate limit reached for tokens: Limit \(tpm), Used \(usedTokens), Requested \(cost)."
        }
        if refusal == nil { admitted.append((now, cost)) }
        let headers = describe(now: now, wantedTokens: cost)
        guard let refusal else { return Verdict(headers: headers) }
        rejected += 1
        let wait = untilRoom(now: now, wantedTokens: cost)
        let ms = max(1, Int((wait / .milliseconds(1)).rounded(.up)))
        let retry: [(name: String, value: String)] = [
            ("retry-after-ms", String(ms)),
            ("retry-after", String(max(1, (ms + 999) / 1000))),
        ]
        return Verdict(headers: headers, rejection: .error(status: 429, type: "requests", code: "rate_limit_exceeded",
                                                           message: refusal, headers: retry))
    }

    /// Time until the oldest admitted request leaves the window (when more room next appears).
    private func untilOldestLeaves(now: ContinuousClock.Instant) -> Duration {
        guard let oldest = admitted.first else { return .zero }
        return max(.zero, oldest.at + window - now)
    }

    /// Time until a request of `wantedTokens` would be admitted.
    private func untilRoom(now: ContinuousClock.Instant, wantedTokens: Int) -> Duration {
        var count = admitted.count
        var tokens = admitted.reduce(0) { $0 + $1.tokens }
        for entry in admitted {
            let requestsOK = requestsPerWindow.map { count < $0 } ?? true
            let tokensOK = tokensPerWindow.map { tokens + wantedTokens <= $0 } ?? true
            if requestsOK && tokensOK { break }
            count -= 1
            tokens -= entry.tokens
            if (requestsPerWindow.map { count < $0 } ?? true) && (tokensPerWindow.map { tokens + wantedTokens <= $0 } ?? true) {
                return max(.zero, entry.at + window - now)
            }
        }
        return untilOldestLeaves(now: now)
    }

    private func describe(now: ContinuousClock.Instant, wantedTokens: Int) -> [(name: String, value: String)] {
        var h: [(name: String, value: String)] = []
        let reset = GoDuration.format(untilOldestLeaves(now: now))
        if let rpm = requestsPerWindow {
            h += [("x-ratelimit-limit-requests", String(rpm)),
                  ("x-ratelimit-remaining-requests", String(max(0, rpm - admitted.count))),
                  ("x-ratelimit-reset-requests", reset)]
        }
        if let tpm = tokensPerWindow {
            let used = admitted.reduce(0) { $0 + $1.tokens }
            h += [("x-ratelimit-limit-tokens", String(tpm)),
                  ("x-ratelimit-remaining-tokens", String(max(0, tpm - used))),
                  ("x-ratelimit-reset-tokens", reset)]
        }
        return h
    }
}
