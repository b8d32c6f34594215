import DistillData
import Foundation

/// A small JSON reader for judge replies, which are often *almost* JSON.
///
/// Foundation's `JSONSerialization` answers only yes or no, drops duplicate keys silently and cannot tell `4` from
/// `4.0`. The parse ladder needs more: number literals exactly as written (an integer score must be an integer
/// literal), duplicate keys kept (a judge that writes `"Correctness"` twice is ambiguous), trailing commas tolerated
/// only when asked, and a truncated object closed at its last complete member. It is not a general JSON library.
public indirect enum JSONValue: Sendable, Equatable {
    /// Members in the order written; duplicates are kept.
    case object([Member])
    case array([JSONValue])
    case string(String)
    /// The number's literal text, e.g. `4`, `-1`, `3.5`, `4e0`.
    case number(String)
    case bool(Bool)
    case null

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
    }

    /// A short name for messages: "a string", "a number", …
    public var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Parses one JSON value from UTF-8 bytes, strictly or with the two repairs the ladder allows.
struct LenientJSONParser {
    struct Options {
        /// Accept `,` before `}` or `]` (a common judge slip; deepeval strips them the same way).
        var allowTrailingCommas = false
        /// At end of input, close the open objects and arrays at their last complete member instead of failing.
        var closeTruncated = false
    }

    enum Failure: Error, Equatable {
        /// The bytes are not JSON at `offset`.
        case syntax(offset: Int, String)
        /// Input ended inside a value (only reported when `closeTruncated` is off).
        case truncated
    }

    struct Result {
        var value: JSONValue
        /// Index just past the value.
        var end: Int
        /// True when the value was closed at end of input (`closeTruncated`).
        var wasTruncated: Bool
    }

    private let bytes: [UInt8]
    private let options: Options
    private var i: Int
    private var truncatedAt: Bool = false
    /// Open arrays and objects; capped at `JSONLimits.maxDepth`, so a reply of 50,000 `[` is a syntax error,
    /// not a stack overflow (here or when the tree is freed).
    private var depth = 0

    init(_ bytes: [UInt8], from start: Int, options: Options = Options()) {
        self.bytes = bytes
        self.options = options
        self.i = start
    }

    /// Parses one value starting at `start` (leading whitespace allowed); returns where it ended.
    static func parseValue(_ bytes: [UInt8], from start: Int, options: Options = Options()) throws(Failure) -> Result {
        var p = LenientJSONParser(bytes, from: start, options: options)
        p.skipSpace()
        guard let v = try p.value() else { throw .truncated }
        return Result(value: v, end: p.i, wasTruncated: p.truncatedAt)
    }

    /// Parses a whole text that must be exactly one JSON value (whitespace around it allowed).
    static func parseWhole(_ text: String, options: Options = Options()) throws(Failure) -> JSONValue {
        let bytes = Array(text.utf8)
        var p = LenientJSONParser(bytes, from: 0, options: options)
        p.skipSpace()
        guard let v = try p.value() else { throw .truncated }
        p.skipSpace()
        guard p.i == bytes.count else { throw .syntax(offset: p.i, "unexpected text after the JSON value") }
        return v
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    /// Ran out of input inside a value: either fail, or (when closing truncations) report "no complete value here".
    private mutating func endOfInput() throws(Failure) -> JSONValue? {
        guard options.closeTruncated else { throw .truncated }
        truncatedAt = true
        return nil
    }

    /// Returns nil only when input ended inside this value and `closeTruncated` is on.
    private mutating func value() throws(Failure) -> JSONValue? {
        guard i < bytes.count else { return try endOfInput() }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string().map(JSONValue.string)
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw .syntax(offset: i, "unexpected character")
        }
    }

    private mutating func literal(_ word: String, _ v: JSONValue) throws(Failure) -> JSONValue? {
        for b in word.utf8 {
            guard i < bytes.count else { return try endOfInput() }
            guard bytes[i] == b else { throw .syntax(offset: i, "expected '\(word)'") }
            i += 1
        }
        return v
    }

    private mutating func number() throws(Failure) -> JSONValue? {
        let start = i
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        guard i > intStart else {
            if i == bytes.count { return try endOfInput() }
            throw .syntax(offset: i, "a number needs digits")
        }
        if bytes[intStart] == UInt8(ascii: "0"), i - intStart > 1 { throw .syntax(offset: intStart, "leading zero") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            if i == fracStart {
                if i == bytes.count { return try endOfInput() }
                throw .syntax(offset: i, "a fraction needs digits")
            }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let expStart = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            if i == expStart {
                if i == bytes.count { return try endOfInput() }
                throw .syntax(offset: i, "an exponent needs digits")
            }
        }
        // A number that runs into the end of a cut-off reply may have lost digits ("4" of "45"): not complete.
        if i == bytes.count, options.closeTruncated { return try endOfInput() }
        return .number(String(decoding: bytes[start..<i], as: UTF8.self))
    }

    private mutating func string() throws(Failure) -> String? {
        i += 1  // opening quote
        var out = [UInt8]()
        while true {
            guard i < bytes.count else { _ = try endOfInput(); return nil }
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else { _ = try endOfInput(); return nil }
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = try unicodeEscape() else { return nil }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw .syntax(offset: i - 1, "bad escape")
                }
            case 0x00..<0x20:
                throw .syntax(offset: i, "control character in a string")
            default:
                out.append(b)
                i += 1
            }
        }
    }

    /// Reads the hex after `\u` (and a following low surrogate); nil when input ends inside it.
    private mutating func unicodeEscape() throws(Failure) -> Unicode.Scalar? {
        func hex4() throws(Failure) -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            guard let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw .syntax(offset: i, "bad \\u escape")
            }
            i += 4
            return v
        }
        guard let hi = try hex4() else { _ = try endOfInput(); return nil }
        if (0xD800..<0xDC00).contains(hi) {
            guard i + 6 <= bytes.count else { _ = try endOfInput(); return nil }
            guard bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                throw .syntax(offset: i, "lone high surrogate")
            }
            i += 2
            guard let lo = try hex4(), (0xDC00..<0xE000).contains(lo) else { throw .syntax(offset: i, "bad low surrogate") }
            return Unicode.Scalar(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
        }
        guard let s = Unicode.Scalar(hi) else { throw .syntax(offset: i, "lone low surrogate") }
        return s
    }

    /// Enters one more level of nesting, or fails past the shared limit.
    private mutating func enter() throws(Failure) {
        guard depth < JSONLimits.maxDepth else {
            throw .syntax(offset: i, "arrays and objects nested more than \(JSONLimits.maxDepth) levels deep")
        }
        depth += 1
    }

    private mutating func object() throws(Failure) -> JSONValue? {
        try enter()
        defer { depth -= 1 }
        i += 1
        var members: [JSONValue.Member] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count else { return try closeAtEnd(.object(members)) }
            if bytes[i] == UInt8(ascii: "}"), options.allowTrailingCommas, !members.isEmpty { i += 1; return .object(members) }
            guard bytes[i] == UInt8(ascii: "\"") else { throw .syntax(offset: i, "expected a key in quotes") }
            guard let key = try string() else { return .object(members) }
            skipSpace()
            guard i < bytes.count else { return try closeAtEnd(.object(members)) }
            guard bytes[i] == UInt8(ascii: ":") else { throw .syntax(offset: i, "expected ':' after a key") }
            i += 1
            skipSpace()
            // A value cut off mid-way is dropped; a container cut off keeps its complete part.
            guard let v = try value() else { return .object(members) }
            members.append(.init(key: key, value: v))
            if truncatedAt { return .object(members) }
            skipSpace()
            guard i < bytes.count else { return try closeAtEnd(.object(members)) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw .syntax(offset: i, "expected ',' or '}'")
        }
    }

    private mutating func array() throws(Failure) -> JSONValue? {
        try enter()
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            guard i < bytes.count else { return try closeAtEnd(.array(items)) }
            if bytes[i] == UInt8(ascii: "]"), options.allowTrailingCommas, !items.isEmpty { i += 1; return .array(items) }
            guard let v = try value() else { return .array(items) }
            items.append(v)
            if truncatedAt { return .array(items) }
            skipSpace()
            guard i < bytes.count else { return try closeAtEnd(.array(items)) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw .syntax(offset: i, "expected ',' or ']'")
        }
    }

    private mutating func closeAtEnd(_ partial: JSONValue) throws(Failure) -> JSONValue? {
        guard options.closeTruncated else { throw .truncated }
        truncatedAt = true
        return partial
    }
}
