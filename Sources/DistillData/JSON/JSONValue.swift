import Foundation

/// A JSON value that keeps what matters for data files: object member order (to write items back as they were),
/// number literals as written (so hashing never depends on float formatting), and exact strings.
///
/// `data stats`, `split` and `check` work on any item shape through it; typed records use `Codable`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's literal text, as it appeared (`1`, `1.0`, `-2e3`).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in file order. A repeated key keeps every occurrence; `subscript` returns the last, as JSON parsers do.
    case object([Member])

    /// One `"key": value` pair of an object.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of member `key` of an object (the last one if repeated), else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// The string, if this is one.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }

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

    /// The keys of an object, in order; empty for anything else.
    public var keys: [String] { if case .object(let m) = self { m.map(\.key) } else { [] } }

    /// Every string inside, with a path like `messages[1].content` (or `messages[user].content` with `byRole`,
    /// which names array elements by their `role`/`from` member so chat turns group by speaker).
    public func strings(byRole: Bool = false) -> [(path: String, text: String)] {
        var out: [(path: String, text: String)] = []
        func walk(_ v: JSONValue, _ path: String) {
            switch v {
            case .string(let s): out.append((path, s))
            case .array(let items):
                for (i, item) in items.enumerated() {
                    var index = "\(i)"
                    if byRole {
                        index = (item["role"] ?? item["from"])?.stringValue ?? ""
                    }
                    walk(item, path + "[\(index)]")
                }
            case .object(let members):
                for m in members { walk(m.value, path.isEmpty ? m.key : path + "." + m.key) }
            default: break
            }
        }
        walk(self, "")
        return out
    }

    /// This value with every string passed through `transform` (keys untouched).
    public func mapStrings(_ transform: (String) -> String) -> JSONValue {
        switch self {
        case .string(let s): .string(transform(s))
        case .array(let a): .array(a.map { $0.mapStrings(transform) })
        case .object(let m): .object(m.map { Member($0.key, $0.value.mapStrings(transform)) })
        default: self
        }
    }
}
