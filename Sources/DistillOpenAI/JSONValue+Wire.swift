import DistillData

/// Small constructors and readers for building and reading wire JSON with `JSONValue`.
extension JSONValue {
    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }

    /// A finite double in Swift's shortest round-trip form; -infinity (a masked token's logprob) as -9999, as OpenAI
    /// reports unlikely tokens; NaN as null.
    public static func double(_ v: Double) -> JSONValue {
        if v.isNaN { return .null }
        if v == -.infinity { return .number("-9999.0") }
        if v == .infinity { return .number("9999.0") }
        return .number("\(v)")
    }

    /// An object from (key, value) pairs in the order given.
    public static func obj(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(pairs.map { Member($0.0, $0.1) })
    }

    /// The number as a Double, if this is a number.
    public var doubleValue: Double? { if case .number(let n) = self { Double(n) } else { nil } }

    /// The number as an Int, if this is a number with an integral value that fits.
    public var intValue: Int? {
        guard case .number(let n) = self else { return nil }
        if let i = Int(n) { return i }
        guard let d = Double(n), d.rounded() == d, abs(d) < 9.0e18 else { return nil }
        return Int(d)
    }

    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var isObject: Bool { if case .object = self { true } else { false } }
}

