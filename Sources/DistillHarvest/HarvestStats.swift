import DistillClient
import Foundation

/// Live counters of a harvest, read by the progress line and the final summary. Thread-safe; updated by the session
/// and (for retries) by the client's event hook.
public final class HarvestStats: @unchecked Sendable {
    /// A snapshot for display.
    public struct Snapshot: Sendable {
        public var planned: Int
        public var sent: Int
        public var resumed: Int
        public var failed: Int
        /// Attempts the client retried, and 429s it met (cumulative).
        public var retries: Int
        public var rateLimited: Int
        public var inFlight: Int
        public var tokensIn: Int
        public var tokensOut: Int
        public var cost: Double
        public var elapsed: Double
        /// Requests and tokens completed in the last 60 s, scaled to a minute.
        public var rpm: Double
        public var tpm: Double
        public var done: Int { sent + resumed + failed }
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var planned = 0
    private var sent = 0
    private var resumed = 0
    private var failed = 0
    private var retries = 0
    private var rateLimited = 0
    private var inFlight = 0
    private var tokensIn = 0
    private var tokensOut = 0
    private var cost = 0.0
    private var recent: [(at: Double, tokens: Int)] = []
    private let start: Double

    public init(now: Double = ProcessInfo.processInfo.systemUptime) { start = now }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock(); defer { lock.unlock() }
        return body()
    }

    /// Requests the recipe expects to make (grows if a recipe resamples beyond its plan).
    public func plan(_ n: Int) { locked { planned += n } }
    public func noteResumed() { locked { resumed += 1 } }
    public func noteStarted() { locked { inFlight += 1 } }
    public func noteFailed() { locked { inFlight -= 1; failed += 1 } }
    /// A request abandoned after a stop: neither done nor failed (it is sent again on resume).
    public func noteAbandoned() { locked { inFlight -= 1 } }
    /// A request that failed in an earlier run and is not retried.
    public func noteFailedEarlier() { locked { failed += 1 } }
    /// The client will retry a failed attempt.
    public func noteRetry() { locked { retries += 1 } }
    /// The server answered 429.
    public func noteRateLimited() { locked { rateLimited += 1 } }

    public func noteSent(tokensIn: Int, tokensOut: Int, cost: Double, now: Double = ProcessInfo.processInfo.systemUptime) {
        locked {
            inFlight -= 1
            sent += 1
            self.tokensIn += tokensIn
            self.tokensOut += tokensOut
            self.cost += cost
            recent.append((now, tokensIn + tokensOut))
            if recent.count > 4096 || (recent.first.map { now - $0.at > 60 } ?? false) {
                recent.removeAll { now - $0.at > 60 }
            }
        }
    }

    /// Spent so far.
    public var spent: Double { locked { cost } }

    public func snapshot(now: Double = ProcessInfo.processInfo.systemUptime) -> Snapshot {
        locked {
            let window = recent.filter { now - $0.at <= 60 }
            let span = min(60, max(1, now - start))
            return Snapshot(planned: max(planned, sent + resumed + failed), sent: sent, resumed: resumed, failed: failed,
                            retries: retries, rateLimited: rateLimited, inFlight: inFlight, tokensIn: tokensIn, tokensOut: tokensOut, cost: cost,
                            elapsed: now - start, rpm: Double(window.count) * 60 / span,
                            tpm: Double(window.reduce(0) { $0 + $1.tokens }) * 60 / span)
        }
    }
}

extension HarvestStats.Snapshot {
    /// The progress line: `done/total · ok/failed/retries · rpm/limit · tpm/limit · tokens · $ so far → projected · ETA`.
    public func line(label: String, rpmLimit: Int? = nil, tpmLimit: Int? = nil) -> String {
        let pct = planned > 0 ? Int((Double(done) / Double(planned) * 100).rounded(.down)) : 0
        var parts = ["\(label) \(done)/\(planned) (\(pct)%)"]
        var status = "ok \(sent)"
        if resumed > 0 { status += " resumed \(resumed)" }
        status += " failed \(failed) retries \(retries)"
        if rateLimited > 0 { status += " (429s \(rateLimited))" }
        parts.append(status)
        parts.append(String(format: "%.0f rpm", rpm) + (rpmLimit.map { "/\($0)" } ?? ""))
        parts.append(Self.compact(tpm) + " tpm" + (tpmLimit.map { "/" + Self.compact(Double($0)) } ?? ""))
        parts.append("tokens in \(Self.compact(Double(tokensIn))) out \(Self.compact(Double(tokensOut)))")
        let remaining = max(0, planned - done)
        let perRequest = sent > 0 ? cost / Double(sent) : 0
        parts.append(String(format: "$%.4f → $%.4f", cost, cost + perRequest * Double(remaining)))
        parts.append("ETA " + eta(remaining: remaining))
        return parts.joined(separator: " · ")
    }

    func eta(remaining: Int) -> String {
        guard remaining > 0 else { return "0s" }
        let rate = sent > 0 && elapsed > 0 ? Double(sent) / elapsed : 0
        guard rate > 0 else { return "?" }
        return Self.duration(Double(remaining) / rate)
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" }
        if t >= 60 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
        return "\(t)s"
    }

    static func compact(_ v: Double) -> String {
        if v >= 1_000_000 { return String(format: "%.1fM", v / 1_000_000) }
        if v >= 10_000 { return String(format: "%.0fk", v / 1000) }
        if v >= 1000 { return String(format: "%.1fk", v / 1000) }
        return String(format: "%.0f", v)
    }
}
