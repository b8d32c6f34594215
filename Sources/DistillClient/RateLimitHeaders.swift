import DistillHTTP
import Foundation

/// What a provider's response headers say about waiting and limits.
public enum RateLimitHeaders {
    /// The server's requested wait: `retry-after-ms`, else `retry-after` as seconds (fractions allowed) or an
    /// HTTP-date (relative to `now`). Nil when absent or unparseable. A past date means "now" (zero).
    public static func retryAfter(_ headers: [(name: String, value: String)], now: Date = Date()) -> Duration? {
        if let ms = value("retry-after-ms", in: headers), let v = Double(ms), v >= 0 {
            return .milliseconds(Int64(v.rounded(.up)))
        }
        guard let text = value("retry-after", in: headers) else { return nil }
        if let seconds = Double(text), seconds >= 0 { return .milliseconds(Int64((seconds * 1000).rounded(.up))) }
        guard let date = httpDate(text) else { return nil }
        let wait = date.timeIntervalSince(now)
        return .milliseconds(Int64(max(0, wait * 1000).rounded(.up)))
    }

    /// A provider's view of one limit: `x-ratelimit-{limit,remaining,reset}-{requests|tokens}`.
    public struct Limit: Sendable, Equatable {
        public var limit: Int?
        public var remaining: Int?
        public var reset: Duration?
    }

    public static func requests(_ headers: [(name: String, value: String)]) -> Limit? { limit("requests", headers) }
    public static func tokens(_ headers: [(name: String, value: String)]) -> Limit? { limit("tokens", headers) }

    /// `x-should-retry: true|false` (OpenAI's override of the status-based decision), if sent.
    public static func shouldRetry(_ headers: [(name: String, value: String)]) -> Bool? {
        switch value("x-should-retry", in: headers)?.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    private static func limit(_ kind: String, _ headers: [(name: String, value: String)]) -> Limit? {
        let l = Limit(limit: value("x-ratelimit-limit-\(kind)", in: headers).flatMap { Int($0) },
                      remaining: value("x-ratelimit-remaining-\(kind)", in: headers).flatMap { Int($0) },
                      reset: value("x-ratelimit-reset-\(kind)", in: headers).flatMap(GoDuration.parse))
        // Azure has been seen sending -1 and 0 limits: treat them as absent.
        guard (l.limit ?? 0) > 0 || l.remaining != nil else { return nil }
        return l
    }

    private static func value(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name.lowercased() == name }?.value.trimmingCharacters(in: .whitespaces)
    }

    /// RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)
    }
}
