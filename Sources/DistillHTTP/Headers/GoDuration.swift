import Foundation

/// Go-style durations as providers send them in `x-ratelimit-reset-*` headers: `6m0s`, `12ms`, `1.5s`, `1h2m3s`.
public enum GoDuration {
    /// Parses a Go duration; a bare number is taken as seconds (some providers send that). Nil if malformed.
    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { return nil }
        if let seconds = Double(s) { return seconds >= 0 ? .milliseconds(Int64((seconds * 1000).rounded())) : nil }
        var total = 0.0  // nanoseconds
        var i = s.startIndex
        var sawUnit = false
        while i < s.endIndex {
            let numStart = i
            while i < s.endIndex, s[i].isNumber || s[i] == "." { i = s.index(after: i) }
            guard numStart < i, let value = Double(s[numStart..<i]) else { return nil }
            let unitStart = i
            while i < s.endIndex, !(s[i].isNumber || s[i] == ".") { i = s.index(after: i) }
            let scale: Double
            switch s[unitStart..<i] {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += value * scale
            sawUnit = true
        }
        return sawUnit ? .nanoseconds(Int64(total.rounded())) : nil
    }

    /// Formats like Go's `Duration.String()` at millisecond precision: `0s`, `12ms`, `1.5s`, `6m0s`, `1h0m0s`.
    public static func format(_ duration: Duration) -> String {
        let ms = max(0, Int64((duration / .milliseconds(1)).rounded()))
        if ms == 0 { return "0s" }
        if ms < 1000 { return "\(ms)ms" }
        let hours = ms / 3_600_000
        let minutes = (ms / 60_000) % 60
        let wholeSeconds = (ms / 1000) % 60
        let frac = ms % 1000
        var secondsText = String(wholeSeconds)
        if frac != 0 {
            var f = String(format: "%03d", Int(frac))
            while f.hasSuffix("0") { f.removeLast() }
            secondsText += "." + f
        }
        if hours > 0 { return "\(hours)h\(minutes)m\(secondsText)s" }
        if minutes > 0 { return "\(minutes)m\(secondsText)s" }
        return "\(secondsText)s"
    }
}
