/// The one JSON parser in distill: recursive descent over UTF-8 bytes, building a `JSONValue` (member order and
/// number literals kept as written).
///
/// Strict (`JSONValue.parse`, for datasets, the wire and configs) is this parser with every leniency off; the lenient
/// mode (`LenientJSONParser`, for judge replies) turns on the repairs in `LenientJSONParser.Options`. Each failure
/// says whether input simply ran out (`ranOut`): strict reports it like any other error, the lenient mode calls it
/// truncation, and with `closeTruncated` the open arrays and objects are closed at their last complete member
/// instead. Nesting is capped here, at `JSONLimits.maxDepth`, for every caller.
struct JSONParser {
    /// What was wrong, the byte offset where it was noticed, and whether it was the end of input.
    struct Failure: Error {
        var message: String
        var offset: Int
        /// Input ended inside a value: a truncation rather than a syntax error.
        var ranOut: Bool
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let options: LenientJSONParser.Options
    /// The next byte to read; after a value, the index just past it.
    private(set) var i: Int
    /// Set when `closeTruncated` closed a value at end of input.
    private(set) var truncated = false
    /// Open arrays and objects around the next value. A value inside `JSONLimits.maxDepth` of them is an error, not a
    /// stack overflow (here or when the tree is freed): 512 nested empty arrays parse, 513 do not.
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, options: LenientJSONParser.Options = .init()) {
        self.bytes = bytes
        self.options = options
        self.i = start
    }

    /// One value that must fill the rest of the input (whitespace around it allowed); nil only when input ended inside
    /// it and `closeTruncated` is on.
    mutating func document() throws(Failure) -> JSONValue? {
        skipSpace()
        guard let v = try value() else { return nil }
        skipSpace()
        guard i == bytes.count else { throw fail("unexpected text after the JSON value") }
        return v
    }

    /// One value from the current position (leading whitespace allowed); nil only when input ended inside it and
    /// `closeTruncated` is on. A container cut off keeps its complete members (`truncated` is then set).
    mutating func value() throws(Failure) -> JSONValue? {
        skipSpace()
        guard depth < JSONLimits.maxDepth else { throw fail("nested more than \(JSONLimits.maxDepth) levels deep") }
        guard i < bytes.count else { try ranOut("unexpected end of input"); return nil }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string().map(JSONValue.string)
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
        }
    }

    // MARK: - Failing and running out

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: i, ranOut: false) }

    /// Input ended inside a value: fail (strict, or lenient without `closeTruncated`), or note the truncation and let
    /// the caller return what was complete.
    private mutating func ranOut(_ message: String) throws(Failure) {
        guard options.closeTruncated else { throw Failure(message: message, offset: i, ranOut: true) }
        truncated = true
        i = bytes.count
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    // MARK: - Containers

    private mutating func object() throws(Failure) -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        i += 1
        var members: [JSONValue.Member] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count else { try ranOut("expected a quoted key"); return .object(members) }
            if bytes[i] == UInt8(ascii: "}"), options.allowTrailingCommas, !members.isEmpty { i += 1; return .object(members) }
            guard bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
            // A key or value cut off mid-way is dropped; a container cut off keeps its complete part.
            guard let key = try string() else { return .object(members) }
            skipSpace()
            guard i < bytes.count else { try ranOut("expected ':' after key \"\(key)\""); return .object(members) }
            guard bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(key)\"") }
            i += 1
            guard let v = try value() else { return .object(members) }
            members.append(JSONValue.Member(key, v))
            if truncated { return .object(members) }
            skipSpace()
            guard i < bytes.count else { try ranOut("unexpected end inside an object"); return .object(members) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("expected ',' or '}' in an object")
        }
    }

    private mutating func array() throws(Failure) -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]"), options.allowTrailingCommas, !items.isEmpty {
                i += 1
                return .array(items)
            }
            guard let v = try value() else { return .array(items) }
            items.append(v)
            if truncated { return .array(items) }
            skipSpace()
            guard i < bytes.count else { try ranOut("unexpected end inside an array"); return .array(items) }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']' in an array")
        }
    }

    // MARK: - Scalars

    private mutating func literal(_ word: StaticString, _ v: JSONValue) throws(Failure) -> JSONValue? {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (k, b) in expected.enumerated() {
            guard i + k < bytes.count else { try ranOut("expected '\(word)'"); return nil }
            guard bytes[i + k] == b else { throw fail("expected '\(word)'") }
        }
        i += expected.count
        return v
    }

    private mutating func digits() -> Int {
        let s = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        return i - s
    }

    /// The literal as written. A leading `0` ends the integer part, so `01` is `0` followed by a stray `1`.
    private mutating func number() throws(Failure) -> JSONValue? {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { try ranOut("incomplete number"); return nil }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else if digits() == 0 { throw fail("incomplete number") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return try incomplete("digits expected after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return try incomplete("digits expected in exponent") }
        }
        // A number that runs into the end of a cut-off reply may have lost digits ("4" of "45"): not complete.
        if i == bytes.count, options.closeTruncated { try ranOut("incomplete number"); return nil }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
    }

    /// Digits missing: input ran out, or a syntax error.
    private mutating func incomplete(_ message: String) throws(Failure) -> JSONValue? {
        guard i == bytes.count else { throw fail(message) }
        try ranOut(message)
        return nil
    }

    private mutating func string() throws(Failure) -> String? {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            let runStart = i
            while i < bytes.count, bytes[i] != 0x22, bytes[i] != 0x5C, bytes[i] >= 0x20 { i += 1 }
            let run = UnsafeBufferPointer(rebasing: bytes[runStart..<i])
            guard i < bytes.count else { try ranOut("unterminated string"); return nil }
            let b = bytes[i]
            if b == 0x22 {
                i += 1
                // Most strings have no escape: one copy, straight from the input.
                if out.isEmpty { return String(decoding: run, as: UTF8.self) }
                out.append(contentsOf: run)
                return String(decoding: out, as: UTF8.self)
            }
            out.append(contentsOf: run)
            if b < 0x20 { throw fail("control character in a string (escape newlines as \\n)") }
            i += 1  // backslash
            guard i < bytes.count else { try ranOut("unterminated escape"); return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let scalar = try unicodeEscape() else { return nil }
                out.append(contentsOf: String(scalar).utf8)
            default: throw fail("unknown escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
    }

    /// The scalar of `\uXXXX` (with its low surrogate when it is a high one); nil when input ends inside it.
    private mutating func unicodeEscape() throws(Failure) -> Unicode.Scalar? {
        guard var v = try hex4() else { return nil }
        if (0xD800...0xDBFF).contains(v) {
            if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                i += 2
                guard let lo = try hex4() else { return nil }
                guard (0xDC00...0xDFFF).contains(lo) else { throw fail("unpaired surrogate in \\u escape") }
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
            } else if i + 6 > bytes.count {
                // Too close to the end for `\uXXXX`: its low half may have been cut off.
                try ranOut("unpaired surrogate in \\u escape")
                return nil
            }
        }
        guard let s = Unicode.Scalar(v) else { throw fail("unpaired surrogate in \\u escape") }
        return s
    }

    private mutating func hex4() throws(Failure) -> UInt32? {
        guard i + 4 <= bytes.count else { try ranOut("incomplete \\u escape"); return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}
