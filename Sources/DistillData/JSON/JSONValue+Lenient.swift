import Foundation

/// The lenient mode of the one JSON parser (`JSONParser`), for judge replies, which are often *almost* JSON.
///
/// The parser, its values and its error messages are the strict `JSONValue.parse`'s (number literals exactly as
/// written, so an integer score must be an integer literal; duplicate keys kept, so a judge that writes
/// `"Correctness"` twice is ambiguous). On top it allows the two repairs the judge's parse ladder uses, each only when
/// asked: trailing commas, and a truncated object closed at its last complete member. It also parses a value that
/// starts inside a longer text and reports where it ended, and tells a truncation (input ran out inside a value) from
/// a syntax error. Fences, prose around the object and the rest of the ladder are `VerdictParser`'s.
public enum LenientJSONParser {
    /// Which repairs to allow; both off is strict RFC 8259.
    public struct Options: Sendable {
        /// Accept `,` before `}` or `]` (a common judge slip; deepeval strips them the same way).
        public var allowTrailingCommas = false
        /// At end of input, close the open objects and arrays at their last complete member instead of failing.
        public var closeTruncated = false

        public init(allowTrailingCommas: Bool = false, closeTruncated: Bool = false) {
            self.allowTrailingCommas = allowTrailingCommas
            self.closeTruncated = closeTruncated
        }
    }

    /// Why a text is not (even lenient) JSON.
    public enum Failure: Error, Equatable, Sendable {
        /// The bytes are not JSON at `offset`.
        case syntax(offset: Int, String)
        /// Input ended inside a value (only reported when `closeTruncated` is off).
        case truncated
    }

    /// One parsed value and where it ended.
    public struct Result: Sendable {
        public var value: JSONValue
        /// Index just past the value.
        public var end: Int
        /// True when the value was closed at end of input (`closeTruncated`).
        public var wasTruncated: Bool
    }

    /// Parses one value starting at `start` (leading whitespace allowed); returns where it ended.
    public static func parseValue(_ bytes: [UInt8], from start: Int, options: Options = Options()) throws(Failure) -> Result {
        let result: Swift.Result<Result, Failure> = bytes.withUnsafeBufferPointer { buffer in
            var p = JSONParser(buffer, from: start, options: options)
            do throws(JSONParser.Failure) {
                guard let v = try p.value() else { return .failure(.truncated) }
                return .success(Result(value: v, end: p.i, wasTruncated: p.truncated))
            } catch {
                return .failure(Failure(error))
            }
        }
        return try result.get()
    }

    /// Parses a whole text that must be exactly one JSON value (whitespace around it allowed).
    public static func parseWhole(_ text: String, options: Options = Options()) throws(Failure) -> JSONValue {
        var text = text
        let result: Swift.Result<JSONValue, Failure> = text.withUTF8 { buffer in
            var p = JSONParser(buffer, options: options)
            do throws(JSONParser.Failure) {
                guard let v = try p.document() else { return .failure(.truncated) }
                return .success(v)
            } catch {
                return .failure(Failure(error))
            }
        }
        return try result.get()
    }
}

extension LenientJSONParser.Failure {
    /// Input that ran out is a truncation; anything else a syntax error at its offset.
    init(_ failure: JSONParser.Failure) {
        self = failure.ranOut ? .truncated : .syntax(offset: failure.offset, failure.message)
    }
}
