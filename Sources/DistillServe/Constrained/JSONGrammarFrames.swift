/// The pieces of the constrained decoder's pushdown state: one frame per open JSON value. Each frame consumes bytes
/// and says whether a byte continues it, completes it, or cannot follow. No whitespace is accepted between tokens
/// (compact JSON, as XGrammar's default), so the model cannot stall in blank space.
enum JSONFrame: Sendable {
    /// A value of this schema starts with the next byte.
    case value(JSONSchemaNode)
    case object(ObjectFrame)
    case array(ArrayFrame)
    case string(StringFrame)
    case number(NumberFrame)
    case literal(LiteralFrame)
}

struct ObjectFrame: Sendable {
    enum Phase: Sendable { case open, comma, key, freeKey, colon, value, next }
    let schema: JSONObjectSchema
    var used: UInt64 = 0
    var phase: Phase = .open
    /// While matching a listed key: the properties still matching, and how many key bytes matched.
    var candidates: UInt64 = 0
    var pos = 0
    /// The property whose value comes next (-1: an additional property).
    var current = -1

    init(_ schema: JSONObjectSchema) { self.schema = schema }

    var allMask: UInt64 { schema.properties.count == 64 ? ~0 : (1 << UInt64(schema.properties.count)) - 1 }
    var requiredDone: Bool { used & schema.required == schema.required }
    var canAddKey: Bool { schema.additional != nil || (~used & allMask) != 0 }
    var valueNode: JSONSchemaNode { current >= 0 ? schema.properties[current].node : (schema.additional ?? .any) }
}

struct ArrayFrame: Sendable {
    enum Phase: Sendable { case open, comma, value, next }
    let item: JSONSchemaNode
    let min: Int
    let max: Int?
    var count = 0
    var phase: Phase = .open
}

struct StringFrame: Sendable {
    enum Step { case invalid, more, complete }
    let min: Int
    let max: Int?
    /// Characters so far (an escape counts one).
    var length = 0
    /// 0 none, 1 after a backslash, 2…5 inside `\uXXXX` (digits seen + 2).
    var escape = 0
    /// Continuation bytes the current UTF-8 character still needs.
    var pendingUTF8 = 0
    /// The lead byte of that character until its second byte arrives (which some leads restrict), else 0.
    var lead: UInt8 = 0

    /// Where the byte after `lead` must lie for well-formed UTF-8 (no overlongs, surrogates, or code points
    /// above U+10FFFF), as Unicode's table 3-7 says.
    static func secondByte(after lead: UInt8) -> ClosedRange<UInt8> {
        switch lead {
        case 0xE0: 0xA0...0xBF
        case 0xED: 0x80...0x9F
        case 0xF0: 0x90...0xBF
        case 0xF4: 0x80...0x8F
        default: 0x80...0xBF
        }
    }
    /// The raw bytes, kept for an object key that must be looked up when it ends.
    var collected: [UInt8]?

    var roomLeft: Bool { max.map { length < $0 } ?? true }

    mutating func feed(_ b: UInt8) -> Step {
        if pendingUTF8 > 0 {
            guard Self.secondByte(after: lead).contains(b) else { return .invalid }
            lead = 0
            pendingUTF8 -= 1
        } else if escape == 1 {
            switch b {
            case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: escape = 0
            case 0x75: escape = 2
            default: return .invalid
            }
        } else if escape >= 2 {
            guard (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) else { return .invalid }
            escape = escape == 5 ? 0 : escape + 1
        } else {
            switch b {
            case 0x22:
                guard length >= min else { return .invalid }
                return .complete
            case 0x5C:
                guard roomLeft else { return .invalid }
                escape = 1
                length += 1
            case 0..<0x20: return .invalid
            case 0x20..<0x80:
                guard roomLeft else { return .invalid }
                length += 1
            case 0xC2...0xDF, 0xE0...0xEF, 0xF0...0xF4:
                guard roomLeft else { return .invalid }
                pendingUTF8 = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1
                lead = b
                length += 1
            default: return .invalid
            }
        }
        collected?.append(b)
        return .more
    }

    /// Bytes that end the string validly from here.
    var closing: [UInt8] {
        var out: [UInt8] = pendingUTF8 > 0 ? [Self.secondByte(after: lead).lowerBound] + Array(repeating: 0x80, count: pendingUTF8 - 1) : []
        if escape == 1 { out.append(0x6E) }
        if escape >= 2 { out += Array(repeating: 0x30, count: 6 - escape) }
        out += Array(repeating: 0x61, count: Swift.max(0, min - length))
        return out + [0x22]
    }
}

/// An integer or number being typed: sign, digits, fraction; bounds checked on every prefix, so a digit that
/// would make every completion fall outside them is refused.
struct NumberFrame: Sendable {
    let integer: Bool
    let lo: Double?
    let hi: Double?
    var negative = false
    var intDigits = 0
    var magnitude: Double = 0
    var leadingZero = false
    var dot = false
    var fracDigits = 0
    var fraction: Double = 0
    static let maxIntDigits = 15
    static let maxFracDigits = 8

    var value: Double {
        let v = magnitude + fraction
        return negative ? -v : v
    }

    /// Whether the text so far is a whole number inside the bounds.
    var canEnd: Bool {
        guard intDigits > 0, !(dot && fracDigits == 0) else { return false }
        return (lo.map { value >= $0 } ?? true) && (hi.map { value <= $0 } ?? true)
    }

    /// Some completion of the text so far lies inside the bounds.
    var feasible: Bool {
        func meets(_ a: Double, _ b: Double) -> Bool {
            // Completions fill [a, b] (magnitudes); mirror for negative numbers, then intersect with [lo, hi].
            let (x, y) = negative ? (-b, -a) : (a, b)
            return (lo.map { y >= $0 } ?? true) && (hi.map { x <= $0 } ?? true)
        }
        if intDigits == 0 { return meets(0, 1e15) }
        if dot {
            let step = pow10(-fracDigits)
            return meets(magnitude + fraction, magnitude + fraction + (fracDigits < Self.maxFracDigits ? step : 0))
        }
        let frac = integer ? 0.0 : 0.999_999_99
        if meets(magnitude, magnitude + frac) { return true }
        if leadingZero { return false }
        var scale = 10.0
        for _ in intDigits..<Self.maxIntDigits {
            if meets(magnitude * scale, (magnitude + 1) * scale - 1 + frac) { return true }
            scale *= 10
        }
        return false
    }

    func pow10(_ e: Int) -> Double {
        var v = 1.0
        for _ in 0..<abs(e) { v *= 10 }
        return e < 0 ? 1 / v : v
    }

    /// Takes `b` if it continues the number within its bounds.
    mutating func accept(_ b: UInt8) -> Bool {
        var next = self
        switch b {
        case 0x2D:
            guard intDigits == 0, !negative else { return false }
            next.negative = true
        case 0x30...0x39:
            let d = Double(b - 0x30)
            if dot {
                guard fracDigits < Self.maxFracDigits else { return false }
                next.fracDigits += 1
                next.fraction += d * pow10(-next.fracDigits)
            } else {
                guard !leadingZero, intDigits < Self.maxIntDigits else { return false }
                if intDigits == 0 && d == 0 { next.leadingZero = true }
                next.intDigits += 1
                next.magnitude = magnitude * 10 + d
            }
        case 0x2E:
            guard !integer, intDigits > 0, !dot else { return false }
            next.dot = true
        default:
            return false
        }
        guard next.feasible else { return false }
        self = next
        return true
    }

    /// Digits that complete the number inside its bounds (shortest found by trying).
    var closing: [UInt8] {
        if canEnd { return [] }
        var probe = self
        var out: [UInt8] = []
        for _ in 0..<(Self.maxIntDigits + Self.maxFracDigits + 2) {
            if probe.canEnd { return out }
            // Prefer the digit that keeps the number smallest in size and still feasible.
            var moved = false
            for d in Array("0123456789".utf8) {
                var trial = probe
                if trial.accept(d) {
                    probe = trial
                    out.append(d)
                    moved = true
                    break
                }
            }
            if !moved { return out }
        }
        return out
    }
}

struct LiteralFrame: Sendable {
    var candidates: [[UInt8]]
    var pos = 0

    /// A candidate has been matched whole.
    var exact: Bool { candidates.contains { $0.count == pos } }
    /// Some candidate is longer than what matched (the literal may go on).
    var extendable: Bool { candidates.contains { $0.count > pos } }

    mutating func accept(_ b: UInt8) -> Bool {
        let next = candidates.filter { $0.count > pos && $0[pos] == b }
        guard !next.isEmpty else { return false }
        candidates = next
        pos += 1
        return true
    }

    var closing: [UInt8] {
        guard !exact, let first = candidates.first(where: { $0.count > pos }) else { return [] }
        return Array(first[pos...])
    }
}
