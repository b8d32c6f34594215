import Foundation

/// Hides secrets that can ride inside text a user typed: the password of a `scheme://user:password@host` URL.
///
/// API keys never reach arguments (they come from the environment), but a URL with a password does; every place
/// that writes a URL or a command line to a file, a log or a report passes it through here.
public enum Redaction {
    /// `https://user:secret@host/v1` → `https://user:***@host/v1`; text without such a URL is returned unchanged.
    /// Works on URLs embedded in longer text (a command line, an error message).
    public static func maskingURLPasswords(_ text: String) -> String {
        guard text.contains("://") && text.contains("@") else { return text }
        var out = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // The authority ends at the first '/', '?', '#' or whitespace.
            let end = rest.firstIndex(where: { "/?# \t\n\"'".contains($0) }) ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out += authority[..<colon] + ":***" + authority[at...]
            } else {
                out += authority
            }
            rest = rest[end...]
        }
        return out + rest
    }
}
