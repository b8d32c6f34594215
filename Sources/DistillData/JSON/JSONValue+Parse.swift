import Foundation

extension JSONValue {
    /// A parse failure: what was wrong and the byte offset where it was noticed.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Parses one JSON value (RFC 8259) that must fill `data` (surrounding whitespace allowed): `JSONParser` with
    /// every leniency off.
    public static func parse(_ data: Data) throws(ParseError) -> JSONValue {
        let result: Result<JSONValue, ParseError> = data.withUnsafeBytes { raw in
            var p = JSONParser(raw.bindMemory(to: UInt8.self))
            do throws(JSONParser.Failure) {
                // Strict never closes a truncation, so `document()` fails rather than return nil.
                guard let v = try p.document() else { return .failure(ParseError(message: "unexpected end of input", offset: p.i)) }
                return .success(v)
            } catch {
                return .failure(ParseError(message: error.message, offset: error.offset))
            }
        }
        return try result.get()
    }

    /// Parses UTF-8 text.
    public static func parse(_ text: String) throws(ParseError) -> JSONValue { try parse(Data(text.utf8)) }
}
