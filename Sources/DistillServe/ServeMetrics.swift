import Foundation
import Synchronization

/// Counters and latency histograms for `GET /metrics` (Prometheus text format 0.0.4). Lines are sorted, so the same
/// counts give the same bytes.
public final class ServeMetrics: Sendable {
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    struct Histogram {
        var counts = [Int](repeating: 0, count: ServeMetrics.buckets.count)
        var sum = 0.0
        var count = 0
        mutating func observe(_ v: Double) {
            for (i, b) in ServeMetrics.buckets.enumerated() where v <= b { counts[i] += 1 }
            sum += v
            count += 1
        }
    }

    struct State {
        var requests: [String: Int] = [:]  // "route status" → count
        var promptTokens = 0
        var completionTokens = 0
        var cachedPromptTokens = 0
        var latency = Histogram()
        var firstToken = Histogram()
        var masks = 0
        var cancelled = 0
        var maskMicroseconds = 0.0
    }

    private let state = Mutex(State())

    public init() {}

    public func request(route: String, status: Int, seconds: Double?) {
        state.withLock { s in
            s.requests["\(route)\u{1}\(status)", default: 0] += 1
            if let seconds { s.latency.observe(seconds) }
        }
    }

    public func tokens(prompt: Int, completion: Int, cached: Int) {
        state.withLock { s in
            s.promptTokens += prompt
            s.completionTokens += completion
            s.cachedPromptTokens += cached
        }
    }

    /// The duration of a streamed reply, known only when its stream ends (its request was counted when it began).
    public func streamEnded(seconds: Double) { state.withLock { $0.latency.observe(seconds) } }

    /// Requests dropped because their client went away before the answer was out.
    public func cancelled(_ n: Int) { state.withLock { $0.cancelled += n } }

    public func firstToken(seconds: Double) { state.withLock { $0.firstToken.observe(seconds) } }

    public func constraint(masks: Int, microseconds: Double) {
        state.withLock { s in
            s.masks += masks
            s.maskMicroseconds += microseconds
        }
    }

    /// Mean time per constrained-decoding mask so far (µs), nil before the first.
    public var meanMaskMicroseconds: Double? {
        state.withLock { $0.masks > 0 ? $0.maskMicroseconds / Double($0.masks) : nil }
    }

    /// The exposition text; `engines` gives each model's running and queued requests.
    public func render(engines: [(model: String, running: Int, queued: Int)]) -> String {
        let s = state.withLock { $0 }
        var out = "# HELP distill_requests_total HTTP requests answered, by route and status.\n# TYPE distill_requests_total counter\n"
        for (key, n) in s.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{1}", maxSplits: 1).map(String.init)
            out += "distill_requests_total{route=\"\(parts[0])\",status=\"\(parts.count > 1 ? parts[1] : "")\"} \(n)\n"
        }
        out += "# HELP distill_prompt_tokens_total Prompt tokens of finished requests.\n# TYPE distill_prompt_tokens_total counter\n"
        out += "distill_prompt_tokens_total \(s.promptTokens)\n"
        out += "# HELP distill_prompt_tokens_cached_total Prompt tokens copied from the prefix cache instead of computed.\n"
        out += "# TYPE distill_prompt_tokens_cached_total counter\ndistill_prompt_tokens_cached_total \(s.cachedPromptTokens)\n"
        out += "# HELP distill_completion_tokens_total Generated tokens.\n# TYPE distill_completion_tokens_total counter\n"
        out += "distill_completion_tokens_total \(s.completionTokens)\n"
        out += "# HELP distill_cancelled_requests_total Requests dropped because the client went away.\n"
        out += "# TYPE distill_cancelled_requests_total counter\ndistill_cancelled_requests_total \(s.cancelled)\n"
        out += "# HELP distill_running_requests Requests decoding now.\n# TYPE distill_running_requests gauge\n"
        for e in engines.sorted(by: { $0.model < $1.model }) { out += "distill_running_requests{model=\"\(e.model)\"} \(e.running)\n" }
        out += "# HELP distill_queue_depth Requests waiting for a slot.\n# TYPE distill_queue_depth gauge\n"
        for e in engines.sorted(by: { $0.model < $1.model }) { out += "distill_queue_depth{model=\"\(e.model)\"} \(e.queued)\n" }
        out += "# HELP distill_constrained_masks_total Constrained-decoding masks computed.\n# TYPE distill_constrained_masks_total counter\n"
        out += "distill_constrained_masks_total \(s.masks)\n"
        out += "# HELP distill_constrained_mask_seconds_total Time spent computing them.\n# TYPE distill_constrained_mask_seconds_total counter\n"
        out += String(format: "distill_constrained_mask_seconds_total %.6f\n", s.maskMicroseconds / 1e6)
        out += histogram("distill_request_duration_seconds", "Time from request to the last byte of the reply.", s.latency)
        out += histogram("distill_time_to_first_token_seconds", "Time from request to the first generated token.", s.firstToken)
        return out
    }

    private func histogram(_ name: String, _ help: String, _ h: Histogram) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (i, b) in Self.buckets.enumerated() { out += "\(name)_bucket{le=\"\(b)\"} \(h.counts[i])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(h.count)\n"
        out += String(format: "\(name)_sum %.6f\n", h.sum)
        out += "\(name)_count \(h.count)\n"
        return out
    }
}
