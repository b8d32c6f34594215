/// Why a tokenizer could not be built from a file: which file, which field, and what to do.
///
/// A struct wrapping a private enum (async-http-client style), so new cases never break callers.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        case unreadable
        case malformed
        case unsupported
    }

    private let kind: Kind
    /// The file (or GGUF path) the tokenizer came from.
    public let file: String
    /// The JSON path or GGUF metadata key at fault, when there is one.
    public let field: String?
    /// What is wrong and what to do about it.
    public let message: String

    private init(_ kind: Kind, file: String, field: String?, _ message: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.message = message
    }

    /// The file could not be read at all.
    public static func unreadable(_ file: String, _ message: String) -> TokenizerError {
        TokenizerError(.unreadable, file: file, field: nil, message)
    }

    /// A field is missing or has the wrong type or value.
    public static func malformed(_ file: String, field: String, _ message: String) -> TokenizerError {
        TokenizerError(.malformed, file: file, field: field, message)
    }

    /// The file is valid but describes a tokenizer this engine does not implement.
    public static func unsupported(_ file: String, field: String, _ message: String) -> TokenizerError {
        TokenizerError(.unsupported, file: file, field: field, message)
    }

    /// True when the file is well formed but asks for something not implemented here.
    public var isUnsupported: Bool { kind == .unsupported }

    public var description: String {
        var s = file + ": "
        if let field { s += "field '\(field)': " }
        return s + message
    }
}
