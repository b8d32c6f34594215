import DistillData
import DistillOpenAI

/// A JSON schema compiled to what the constrained decoder enforces. Every keyword is either enforced or refused
/// (400 naming it and where it is); none is silently ignored.
///
/// Enforced: `type` (one or a list), `properties`, `required`, `additionalProperties` (false — also the default, as
/// llama.cpp and OpenAI's strict mode assume — true, or a schema), `enum`, `const`, `minimum`/`maximum` and the
/// exclusive forms on integers, `minimum`/`maximum` on numbers, `minLength`/`maxLength` on strings, `items`,
/// `minItems`/`maxItems`, `anyOf`, local `$ref` into `$defs`/`definitions`. Annotations (`title`, `description`,
/// `default`, `examples`, `$schema`, `$id`, `$comment`) are ignored as they constrain nothing.
public indirect enum JSONSchemaNode: Sendable {
    case any
    case object(JSONObjectSchema)
    case array(item: JSONSchemaNode, min: Int, max: Int?)
    case string(min: Int, max: Int?)
    /// Inclusive bounds.
    case integer(min: Int?, max: Int?)
    case number(min: Double?, max: Double?)
    /// Each alternative's exact JSON text (enum, const, boolean, null).
    case literals([[UInt8]])
    case anyOf([JSONSchemaNode])

    /// Any JSON object (`response_format: json_object`).
    public static var anyObject: JSONSchemaNode { .object(JSONObjectSchema(properties: [], required: 0, additional: .any)) }

    static let annotations: Set<String> = ["title", "description", "default", "examples", "$schema", "$id", "$comment"]

    /// Compiles `schema`; throws a 400 naming the first unsupported keyword and its path.
    public static func compile(_ schema: JSONValue) throws(OpenAIError) -> JSONSchemaNode {
        var c = Compiler(root: schema)
        return try c.node(schema, path: "schema", depth: 0)
    }

    private struct Compiler {
        let root: JSONValue

        func fail(_ path: String, _ message: String) -> OpenAIError {
            .invalid("response_format.json_schema." + path, message)
        }

        mutating func node(_ s: JSONValue, path: String, depth: Int) throws(OpenAIError) -> JSONSchemaNode {
            guard depth < 32 else { throw fail(path, "the schema nests deeper than 32 levels (a recursive $ref?); recursion is not supported") }
            if case .bool(true) = s { return .any }
            guard s.isObject else { throw fail(path, "a schema must be an object, not \(s.kindName)") }
            if let ref = s["$ref"] {
                guard s.keys.allSatisfy({ $0 == "$ref" || Self.annotationsOrDefs.contains($0) }) else {
                    throw fail(path, "$ref beside other keywords is not supported")
                }
                return try node(resolve(ref, path: path), path: path + ".$ref", depth: depth + 1)
            }
            let known: Set<String> = ["type", "properties", "required", "additionalProperties", "enum", "const", "minimum",
                                      "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "items",
                                      "minItems", "maxItems", "anyOf", "$defs", "definitions"]
            for key in s.keys where !known.contains(key) && !JSONSchemaNode.annotations.contains(key) {
                throw fail(path + "." + key, "the schema keyword '\(key)' (at \(path)) is not supported by this server's constrained decoding; remove it")
            }
            if let values = s["enum"] {
                guard let list = values.arrayValue, !list.isEmpty else { throw fail(path + ".enum", "'enum' must be a non-empty array") }
                return .literals(list.map { Array($0.compactData()) })
            }
            if let value = s["const"] { return .literals([Array(value.compactData())]) }
            if let alternatives = s["anyOf"] {
                guard let list = alternatives.arrayValue, !list.isEmpty else { throw fail(path + ".anyOf", "'anyOf' must be a non-empty array") }
                var nodes: [JSONSchemaNode] = []
                for (i, alt) in list.enumerated() { nodes.append(try node(alt, path: path + ".anyOf[\(i)]", depth: depth + 1)) }
                return nodes.count == 1 ? nodes[0] : .anyOf(nodes)
            }
            switch s["type"] {
            case nil:
                if s["properties"] != nil { return try typed("object", s, path: path, depth: depth) }
                return .any
            case .string(let t)?:
                return try typed(t, s, path: path, depth: depth)
            case .array(let types)?:
                var nodes: [JSONSchemaNode] = []
                for t in types {
                    guard let name = t.stringValue else { throw fail(path + ".type", "'type' must name types") }
                    nodes.append(try typed(name, s, path: path, depth: depth))
                }
                guard !nodes.isEmpty else { throw fail(path + ".type", "'type' is an empty list") }
                return nodes.count == 1 ? nodes[0] : .anyOf(nodes)
            default:
                throw fail(path + ".type", "'type' must be a string or an array of strings")
            }
        }

        static let annotationsOrDefs: Set<String> = JSONSchemaNode.annotations.union(["$defs", "definitions"])

        func resolve(_ ref: JSONValue, path: String) throws(OpenAIError) -> JSONValue {
            guard let text = ref.stringValue, text.hasPrefix("#/") else {
                throw fail(path + ".$ref", "only local references ('#/$defs/Name') are supported")
            }
            var at = root
            for part in text.dropFirst(2).split(separator: "/") {
                let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard let next = at[key] else { throw fail(path + ".$ref", "'\(text)' does not point into the schema") }
                at = next
            }
            return at
        }

        func int(_ s: JSONValue, _ key: String, path: String) throws(OpenAIError) -> Int? {
            guard let v = s[key] else { return nil }
            guard let i = v.intValue else { throw fail(path + "." + key, "'\(key)' must be an integer") }
            return i
        }

        func double(_ s: JSONValue, _ key: String, path: String) throws(OpenAIError) -> Double? {
            guard let v = s[key] else { return nil }
            guard let d = v.doubleValue, d.isFinite else { throw fail(path + "." + key, "'\(key)' must be a number") }
            return d
        }

        mutating func typed(_ type: String, _ s: JSONValue, path: String, depth: Int) throws(OpenAIError) -> JSONSchemaNode {
            switch type {
            case "object":
                return .object(try object(s, path: path, depth: depth))
            case "array":
                let item = try s["items"].map { v throws(OpenAIError) in try node(v, path: path + ".items", depth: depth + 1) } ?? .any
                let lo = try int(s, "minItems", path: path) ?? 0
                let hi = try int(s, "maxItems", path: path)
                guard lo >= 0, hi.map({ $0 >= lo }) ?? true else { throw fail(path + ".minItems", "need 0 ≤ minItems ≤ maxItems") }
                return .array(item: item, min: lo, max: hi)
            case "string":
                let lo = try int(s, "minLength", path: path) ?? 0
                let hi = try int(s, "maxLength", path: path)
                guard lo >= 0, hi.map({ $0 >= lo }) ?? true else { throw fail(path + ".minLength", "need 0 ≤ minLength ≤ maxLength") }
                return .string(min: lo, max: hi)
            case "integer":
                var lo = try double(s, "minimum", path: path).map { Int(clamping: Int64(exactly: $0.rounded(.up)) ?? Int64.min) }
                var hi = try double(s, "maximum", path: path).map { Int(clamping: Int64(exactly: $0.rounded(.down)) ?? Int64.max) }
                if let x = try double(s, "exclusiveMinimum", path: path) { lo = max(lo ?? Int.min, Int(x.rounded(.down)) + 1) }
                if let x = try double(s, "exclusiveMaximum", path: path) { hi = min(hi ?? Int.max, Int(x.rounded(.up)) - 1) }
                if let lo, let hi, lo > hi { throw fail(path + ".minimum", "no integer lies between minimum and maximum") }
                return .integer(min: lo, max: hi)
            case "number":
                if s["exclusiveMinimum"] != nil || s["exclusiveMaximum"] != nil {
                    throw fail(path + ".exclusiveMinimum", "exclusive bounds on 'number' are not supported (they are on 'integer'); use minimum/maximum")
                }
                let lo = try double(s, "minimum", path: path)
                let hi = try double(s, "maximum", path: path)
                if let lo, let hi, lo > hi { throw fail(path + ".minimum", "minimum is above maximum") }
                return .number(min: lo, max: hi)
            case "boolean": return .literals([Array("true".utf8), Array("false".utf8)])
            case "null": return .literals([Array("null".utf8)])
            default: throw fail(path + ".type", "unknown type '\(type)'")
            }
        }

        mutating func object(_ s: JSONValue, path: String, depth: Int) throws(OpenAIError) -> JSONObjectSchema {
            var props: [(name: String, key: [UInt8], node: JSONSchemaNode)] = []
            if let p = s["properties"] {
                guard case .object(let members) = p else { throw fail(path + ".properties", "'properties' must be an object") }
                guard members.count <= 64 else { throw fail(path + ".properties", "at most 64 properties per object are supported") }
                for m in members where !props.contains(where: { $0.name == m.key }) {
                    let child = try node(m.value, path: path + ".properties." + m.key, depth: depth + 1)
                    props.append((m.key, Array(JSONValue.string(m.key).compactData()), child))
                }
            }
            var required: UInt64 = 0
            if let r = s["required"] {
                guard let names = r.arrayValue else { throw fail(path + ".required", "'required' must be an array of names") }
                for n in names {
                    guard let name = n.stringValue, let i = props.firstIndex(where: { $0.name == name }) else {
                        throw fail(path + ".required", "'required' names \(n.stringValue.map { "'\($0)'" } ?? "a non-string") that is not in 'properties'")
                    }
                    required |= 1 << UInt64(i)
                }
            }
            var additional: JSONSchemaNode?
            switch s["additionalProperties"] {
            case nil, .bool(false)?: additional = props.isEmpty && s["properties"] == nil ? .any : nil
            case .bool(true)?: additional = .any
            case let other?: additional = try node(other, path: path + ".additionalProperties", depth: depth + 1)
            }
            return JSONObjectSchema(properties: props, required: required, additional: additional)
        }
    }
}

/// An object's properties in schema order, the required ones as a bit set, and what other keys may hold (nil: none).
public final class JSONObjectSchema: Sendable {
    public let properties: [(name: String, key: [UInt8], node: JSONSchemaNode)]
    public let required: UInt64
    public let additional: JSONSchemaNode?

    init(properties: [(name: String, key: [UInt8], node: JSONSchemaNode)], required: UInt64, additional: JSONSchemaNode?) {
        self.properties = properties
        self.required = required
        self.additional = additional
    }
}
