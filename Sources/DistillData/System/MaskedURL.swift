import Foundation

/// `url` with its secrets hidden (`Redaction.maskingURLPasswords` plus credentials in the query), for anything a person or a file may see (manifests, reports, dry-run output,
/// error messages): a password in `scheme://user:password@host` becomes `user:***@`, and the value of a query
/// parameter that carries a credential (`key`, `api_key`, `token`, `access_token`, `secret`, `password`, `sig`, …)
/// becomes `***`. Text that is not a URL is returned as it is.
public func maskedURL(_ url: String) -> String {
    let out = Redaction.maskingURLPasswords(url)
    guard out.contains("://"), let q = out.firstIndex(of: "?") else { return out }
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
