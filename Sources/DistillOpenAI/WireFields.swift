import DistillData
import Foundation

/// Reads the members of a request object with 400s that name the field: wrong type, out of range, unknown field.
/// Every member read is remembered so `refuseUnknown` can name what the server would otherwise silently ignore.
public struct WireFields {
    public let object: JSONValue
    public let path: String
    private var seen: Set<String> = []

    public init(_ object: JSONValue, path: String = "") throws(OpenAIError) {
        guard object.isObject else {
            throw .invalid(path.isEmpty ? nil : path, "\(path.isEmpty ? "the body" : "'\(path)'") must be a JSON object, not \(object.kindName)")
        }
        self.object = object
        self.path = path
    }

    /// A request body's fields, and its required `model`: what every `POST /v1/...` route reads first.
    public static func requestBody(_ body: [UInt8]) throws(OpenAIError) -> (fields: WireFields, model: String) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(Data(body))
        } catch {
            throw .invalid(nil, "the body is not valid JSON: \(error)")
        }
        var f = try WireFields(json)
        guard let model = try f.string("model") else { throw .invalid("model", "'model' is required (see GET /v1/models)") }
        return (f, model)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member, or nil when absent or null.
    public mutating func value(_ key: String) -> JSONValue? {
        seen.insert(key)
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    public mutating func string(_ key: String) throws(OpenAIError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw .invalid(name(key), "'\(name(key))' must be a string, not \(v.kindName)") }
        return s
    }

    public mutating func bool(_ key: String) throws(OpenAIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.boolValue else { throw .invalid(name(key), "'\(name(key))' must be a boolean, not \(v.kindName)") }
        return b
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws(OpenAIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.intValue else { throw .invalid(name(key), "'\(name(key))' must be an integer, not \(v.kindName == "a number" ? "a fraction" : v.kindName)") }
        guard range.contains(i) else {
            throw .invalid(name(key), "'\(name(key))' is \(i); it must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return i
    }

    public mutating func double(_ key: String, in range: ClosedRange<Double>) throws(OpenAIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue, d.isFinite else { throw .invalid(name(key), "'\(name(key))' must be a number, not \(v.kindName)") }
        guard range.contains(d) else {
            throw .invalid(name(key), "'\(name(key))' is \(d); it must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return d
    }

    /// `stop`: a string or an array of up to 16 non-empty strings.
    public mutating func stop(_ key: String) throws(OpenAIError) -> [String]? {
        guard let v = value(key) else { return nil }
        let list: [String]
        if let s = v.stringValue {
            list = [s]
        } else if let a = v.arrayValue {
            var out: [String] = []
            for (i, item) in a.enumerated() {
                guard let s = item.stringValue else { throw .invalid(name(key) + "[\(i)]", "'\(name(key))[\(i)]' must be a string") }
                out.append(s)
            }
            list = out
        } else {
            throw .invalid(name(key), "'\(name(key))' must be a string or an array of strings, not \(v.kindName)")
        }
        guard list.count <= 16, list.allSatisfy({ !$0.isEmpty }) else {
            throw .invalid(name(key), "'\(name(key))' takes at most 16 non-empty strings")
        }
        return list
    }

    /// Refuses members nobody read, except `ignorable` ones (fields that cannot change the answer here).
    public func refuseUnknown(ignorable: Set<String> = []) throws(OpenAIError) {
        for key in object.keys where !seen.contains(key) && !ignorable.contains(key) {
            throw .invalid(name(key), "'\(name(key))' is not supported by this server; remove it")
        }
    }
}
