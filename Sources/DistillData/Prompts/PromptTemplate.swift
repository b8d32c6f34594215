import Foundation

/// A prompt read from a text file, with `{name}` placeholders filled in by `render`.
///
/// Syntax: `{name}` is a placeholder (letters, digits, `_`, `-`); `{{` and `}}` are literal braces, so prompts can
/// hold JSON examples. Any other brace is an error at load time, because a stray `{` is almost always a typo that
/// would otherwise reach the teacher verbatim. Values are substituted once: a value containing `{x}` stays as is.
public struct PromptTemplate: Sendable {
    /// The template's name (the file name without `.txt`).
    public let name: String
    /// The file's text, exactly as read.
    public let text: String
    /// Where the text came from (a file path), used in every error.
    public let source: String

    /// Literal text and placeholders, in order.
    enum Segment: Sendable, Equatable {
        case literal(String)
        case placeholder(String)
    }

    let segments: [Segment]

    /// Parses `text`; throws a `DataError` naming `source` and the line of a malformed brace.
    public init(name: String, text: String, source: String) throws {
        self.name = name
        self.text = text
        self.source = source
        self.segments = try Self.parse(text, source: source)
    }

    /// The placeholder names the template uses.
    public var placeholders: Set<String> {
        Set(segments.compactMap { if case .placeholder(let n) = $0 { n } else { nil } })
    }

    /// Fills every placeholder from `values`.
    ///
    /// Throws a `DataError` naming the template file if a placeholder is missing from `values`, or if `values` has a
    /// key the template lacks (pass `allowUnused: true` to permit extras).
    public func render(_ values: [String: String], allowUnused: Bool = false) throws -> String {
        let needed = placeholders
        let missing = needed.subtracting(values.keys)
        if !missing.isEmpty {
            throw DataError(file: source, "prompt '\(name)' needs a value for \(Self.list(missing)); "
                + "it was given \(Self.list(Set(values.keys)))")
        }
        if !allowUnused {
            let extra = Set(values.keys).subtracting(needed)
            if !extra.isEmpty {
                throw DataError(file: source, "prompt '\(name)' has no placeholder \(Self.list(extra)); "
                    + "its placeholders are \(Self.list(needed)) (edit the file or the values passed to it)")
            }
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + values.values.reduce(0) { $0 + $1.utf8.count })
        for segment in segments {
            switch segment {
            case .literal(let s): out += s
            case .placeholder(let n): out += values[n] ?? ""
            }
        }
        return out
    }

    static func list(_ names: Set<String>) -> String {
        names.isEmpty ? "nothing" : names.sorted().map { "{\($0)}" }.joined(separator: ", ")
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }

    /// Splits the text into segments, working on UTF-8 bytes (braces and names are ASCII, so multi-byte
    /// characters never split).
    static func parse(_ text: String, source: String) throws -> [Segment] {
        let bytes = Array(text.utf8)
        var segments: [Segment] = []
        var literal: [UInt8] = []
        var line = 1
        var i = 0
        func flush() {
            if !literal.isEmpty { segments.append(.literal(String(decoding: literal, as: UTF8.self))) }
            literal.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A { line += 1 }
            if b == 0x7B {  // {
                if i + 1 < bytes.count, bytes[i + 1] == 0x7B { literal.append(0x7B); i += 2; continue }
                var j = i + 1
                while j < bytes.count, isNameByte(bytes[j]) { j += 1 }
                guard j > i + 1, j < bytes.count, bytes[j] == 0x7D else {
                    throw DataError(file: source, line: line, "stray '{' in prompt: write {name} for a placeholder "
                        + "(letters, digits, _ or -) or {{ for a literal brace")
                }
                flush()
                segments.append(.placeholder(String(decoding: bytes[(i + 1)..<j], as: UTF8.self)))
                i = j + 1
                continue
            }
            if b == 0x7D {  // }
                if i + 1 < bytes.count, bytes[i + 1] == 0x7D { literal.append(0x7D); i += 2; continue }
                throw DataError(file: source, line: line, "stray '}' in prompt: write }} for a literal brace")
            }
            literal.append(b)
            i += 1
        }
        flush()
        return segments
    }
}
