import Foundation

/// `url` with its secrets hidden, for anything a person or a file may see (manifests, reports, dry-run output,
/// error messages): a password in `scheme://user:password@host` becomes `user:***@`, and the value of a query
/// parameter that carries a credential (`key`, `api_key`, `token`, `access_token`, `secret`, `password`, `sig`, …)
/// becomes `***`. Text that is not a URL is returned as it is.
public func maskedURL(_ url: String) -> String {
    guard let scheme = url.range(of: "://") else { return url }
    var out = url
    // userinfo: between "://" and the first "@" before the path starts.
    let afterScheme = out[scheme.upperBound...]
    let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? out.endIndex
    if let at = out[scheme.upperBound..<authorityEnd].lastIndex(of: "@"),
       let colon = out[scheme.upperBound..<at].firstIndex(of: ":") {
        out.replaceSubrange(out.index(after: colon)..<at, with: "***")
    }
    guard let q = out.firstIndex(of: "?") else { return out }
    let fragment = out[q...].firstIndex(of: "#") ?? out.endIndex
    let query = out[out.index(after: q)..<fragment].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
        guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
        let name = pair[..<eq].lowercased().replacingOccurrences(of: "-", with: "_")
        return maskedQueryNames.contains(name) || name.hasSuffix("_key") || name.hasSuffix("token")
            ? String(pair[..<eq]) + "=***" : String(pair)
    }.joined(separator: "&")
    return String(out[...q]) + query + String(out[fragment...])
}

private let maskedQueryNames: Set<String> = ["key", "apikey", "api_key", "token", "access_token", "secret", "password",
                                              "pass", "sig", "signature", "auth", "authorization", "code"]
