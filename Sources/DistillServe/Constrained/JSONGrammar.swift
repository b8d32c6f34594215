/// A byte-level recogniser for JSON matching a compiled schema: `feed` takes one byte or refuses it, so a token is
/// allowed exactly when all its bytes are taken. `anyOf` runs its alternatives side by side (each its own stack of
/// frames) until the bytes tell them apart.
public struct JSONGrammar: Sendable {
    var alternatives: [[JSONFrame]]

    public init(_ root: JSONSchemaNode) { alternatives = [[.value(root)]] }

    /// No byte can follow and the text is a complete value (or a number / literal that may end here).
    public var canFinish: Bool {
        alternatives.contains { s in
            guard let top = s.last else { return true }
            guard s.count == 1 else { return false }
            switch top {
            case .number(let n): return n.canEnd
            case .literal(let l): return l.exact
            default: return false
            }
        }
    }

    /// Whether nothing more can be accepted (the value is complete).
    public var isComplete: Bool { alternatives.contains { $0.isEmpty } }

    /// Takes one byte; false (and unchanged) when no alternative can.
    public mutating func feed(_ b: UInt8) -> Bool {
        var next: [[JSONFrame]] = []
        for s in alternatives { Self.step(s, b, &next) }
        guard !next.isEmpty else { return false }
        alternatives = next
        return true
    }

    /// Takes all of `bytes`, or returns false with self unchanged.
    public mutating func feed<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var copy = self
        for b in bytes where !copy.feed(b) { return false }
        self = copy
        return true
    }

    /// Bytes that complete the value validly from here (required members with their smallest values, closers).
    public var closing: [UInt8] {
        var probe = self
        var out: [UInt8] = []
        for _ in 0..<10_000 {
            if probe.isComplete || probe.endsAlone { break }
            guard let stack = probe.alternatives.first, let piece = Self.closingPiece(stack), !piece.isEmpty,
                  probe.feed(piece) else { break }
            out += piece
        }
        return out
    }

    /// A number or literal at the top level that can end has nothing more to add.
    private var endsAlone: Bool {
        guard let s = alternatives.first, s.count == 1 else { return false }
        if case .number(let n) = s[0] { return n.canEnd }
        if case .literal(let l) = s[0] { return l.exact }
        return false
    }

    static func step(_ stack: [JSONFrame], _ b: UInt8, _ out: inout [[JSONFrame]]) {
        var s = stack
        guard let top = s.popLast() else { return }
        switch top {
        case .value(let node):
            switch node {
            case .anyOf(let alts):
                for a in alts { step(s + [.value(a)], b, &out) }
            case .any:
                switch b {
                case 0x7B: out.append(s + [.object(ObjectFrame(JSONObjectSchema.anyMembers))])
                case 0x5B: out.append(s + [.array(ArrayFrame(item: .any, min: 0, max: nil))])
                case 0x22: out.append(s + [.string(StringFrame(min: 0, max: nil))])
                case 0x2D, 0x30...0x39: step(s + [.number(NumberFrame(integer: false, lo: nil, hi: nil))], b, &out)
                case 0x74, 0x66, 0x6E:
                    step(s + [.literal(LiteralFrame(candidates: [Array("true".utf8), Array("false".utf8), Array("null".utf8)]))], b, &out)
                default: return
                }
            case .object(let schema):
                if b == 0x7B { out.append(s + [.object(ObjectFrame(schema))]) }
            case .array(let item, let lo, let hi):
                if b == 0x5B { out.append(s + [.array(ArrayFrame(item: item, min: lo, max: hi))]) }
            case .string(let lo, let hi):
                if b == 0x22 { out.append(s + [.string(StringFrame(min: lo, max: hi))]) }
            case .integer(let lo, let hi):
                step(s + [.number(NumberFrame(integer: true, lo: lo.map(Double.init), hi: hi.map(Double.init)))], b, &out)
            case .number(let lo, let hi):
                step(s + [.number(NumberFrame(integer: false, lo: lo, hi: hi))], b, &out)
            case .literals(let c):
                step(s + [.literal(LiteralFrame(candidates: c))], b, &out)
            }
        case .string(var f):
            switch f.feed(b) {
            case .invalid: return
            case .more: out.append(s + [.string(f)])
            case .complete:
                if completed(&s, key: f.collected) { out.append(s) }
            }
        case .number(var f):
            if f.accept(b) {
                out.append(s + [.number(f)])
            } else if f.canEnd, completed(&s, key: nil) {
                step(s, b, &out)
            }
        case .literal(var f):
            let was = f
            if f.accept(b) {
                if f.exact && !f.extendable {
                    if completed(&s, key: nil) { out.append(s) }
                } else {
                    out.append(s + [.literal(f)])
                }
            } else if was.exact, completed(&s, key: nil) {
                step(s, b, &out)
            }
        case .object(var f):
            switch f.phase {
            case .open, .next, .comma:
                if b == 0x7D, f.phase != .comma, f.requiredDone {
                    if completed(&s, key: nil) { out.append(s) }
                } else if b == 0x2C, f.phase == .next, f.canAddKey {
                    f.phase = .comma
                    out.append(s + [.object(f)])
                } else if b == 0x22, f.phase != .next {
                    if f.schema.additional != nil {
                        f.phase = .freeKey
                        var key = StringFrame(min: 0, max: nil)
                        key.collected = [0x22]
                        out.append(s + [.object(f), .string(key)])
                    } else {
                        f.candidates = ~f.used & f.allMask
                        guard f.candidates != 0 else { return }
                        f.phase = .key
                        f.pos = 1
                        out.append(s + [.object(f)])
                    }
                }
            case .key:
                var remaining: UInt64 = 0
                var matched = -1
                for (i, p) in f.schema.properties.enumerated() where f.candidates & (1 << UInt64(i)) != 0 {
                    guard p.key.count > f.pos, p.key[f.pos] == b else { continue }
                    remaining |= 1 << UInt64(i)
                    if p.key.count == f.pos + 1 { matched = i }
                }
                guard remaining != 0 else { return }
                f.candidates = remaining
                f.pos += 1
                if matched >= 0 {
                    f.current = matched
                    f.phase = .colon
                }
                out.append(s + [.object(f)])
            case .colon:
                guard b == 0x3A else { return }
                f.phase = .value
                out.append(s + [.object(f), .value(f.valueNode)])
            case .freeKey, .value:
                return  // a child frame is on top while in these phases
            }
        case .array(var f):
            switch f.phase {
            case .open, .next:
                if b == 0x5D, f.count >= f.min {
                    if completed(&s, key: nil) { out.append(s) }
                } else if b == 0x2C, f.phase == .next, f.max.map({ f.count < $0 }) ?? true {
                    f.phase = .comma
                    out.append(s + [.array(f)])
                } else if f.phase == .open, f.max.map({ $0 > 0 }) ?? true {
                    f.phase = .value
                    step(s + [.array(f), .value(f.item)], b, &out)
                }
            case .comma:
                f.phase = .value
                step(s + [.array(f), .value(f.item)], b, &out)
            case .value:
                return
            }
        }
    }

    /// The frame on top of `s` just got a complete child value (or key): advance it. False if the key is not allowed.
    static func completed(_ s: inout [JSONFrame], key: [UInt8]?) -> Bool {
        guard let parent = s.last else { return true }
        switch parent {
        case .object(var f):
            if f.phase == .freeKey {
                let raw = (key ?? []) + [0x22]
                f.current = f.schema.properties.firstIndex { $0.key == raw } ?? -1
                f.phase = .colon
            } else {
                if f.current >= 0 { f.used |= 1 << UInt64(f.current) }
                f.phase = .next
            }
            s[s.count - 1] = .object(f)
        case .array(var f):
            f.count += 1
            f.phase = .next
            s[s.count - 1] = .array(f)
        default:
            return false
        }
        return true
    }

    /// The next few bytes toward a valid end for the top frame of `s`.
    static func closingPiece(_ s: [JSONFrame]) -> [UInt8]? {
        guard let top = s.last else { return nil }
        switch top {
        case .value(let node): return minimal(node)
        case .string(let f): return f.closing
        case .number(let f):
            let digits = f.closing
            if !digits.isEmpty { return digits }
            // A finished number ends at the parent's next byte.
            var parent = Array(s.dropLast())
            return !parent.isEmpty && completed(&parent, key: nil) ? closingPiece(parent) : nil
        case .literal(let f):
            let rest = f.closing
            if !rest.isEmpty { return rest }
            var parent = Array(s.dropLast())
            return !parent.isEmpty && completed(&parent, key: nil) ? closingPiece(parent) : nil
        case .object(let f):
            let missing = (0..<f.schema.properties.count).first { f.schema.required & ~f.used & (1 << UInt64($0)) != 0 }
            switch f.phase {
            case .open, .next:
                guard let m = missing else { return [0x7D] }
                return (f.phase == .next ? [0x2C] : []) + f.schema.properties[m].key + [0x3A]
            case .comma:
                if let m = missing ?? (0..<f.schema.properties.count).first(where: { f.used & (1 << UInt64($0)) == 0 }) {
                    return f.schema.properties[m].key + [0x3A]
                }
                return Array("\"_\":".utf8)
            case .key:
                let i = (0..<f.schema.properties.count).first { f.candidates & (1 << UInt64($0)) != 0 } ?? 0
                return Array(f.schema.properties[i].key[f.pos...]) + [0x3A]
            case .colon: return [0x3A]
            case .freeKey, .value: return nil
            }
        case .array(let f):
            switch f.phase {
            case .open: return f.count < f.min ? minimal(f.item) : [0x5D]
            case .next: return f.count < f.min ? [0x2C] : [0x5D]
            case .comma: return minimal(f.item)
            case .value: return nil
            }
        }
    }

    /// The shortest value of `node` (empty strings, the bound nearest zero, the first literal, required members).
    static func minimal(_ node: JSONSchemaNode) -> [UInt8] {
        switch node {
        case .any: return Array("null".utf8)
        case .anyOf(let alts): return alts.first.map(minimal) ?? Array("null".utf8)
        case .literals(let c): return c.first ?? Array("null".utf8)
        case .string(let lo, _): return [0x22] + Array(repeating: 0x61, count: lo) + [0x22]
        case .integer(let lo, let hi):
            let v = lo.map { $0 > 0 ? $0 : (hi.map { h in h < 0 ? h : 0 } ?? 0) } ?? (hi.map { $0 < 0 ? $0 : 0 } ?? 0)
            return Array(String(v).utf8)
        case .number(let lo, let hi):
            let v = lo.map { $0 > 0 ? $0 : (hi.map { h in h < 0 ? h : 0 } ?? 0) } ?? (hi.map { $0 < 0 ? $0 : 0 } ?? 0)
            let text = v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
            return Array(text.utf8)
        case .array(let item, let lo, _):
            var out: [UInt8] = [0x5B]
            for i in 0..<lo { if i > 0 { out.append(0x2C) }; out += minimal(item) }
            return out + [0x5D]
        case .object(let schema):
            var out: [UInt8] = [0x7B]
            var first = true
            for (i, p) in schema.properties.enumerated() where schema.required & (1 << UInt64(i)) != 0 {
                if !first { out.append(0x2C) }
                first = false
                out += p.key + [0x3A] + minimal(p.node)
            }
            return out + [0x7D]
        }
    }
}

extension JSONObjectSchema {
    /// Any members with any values (`json_object`, or `{"type": "object"}` without properties).
    static let anyMembers = JSONObjectSchema(properties: [], required: 0, additional: .any)
}
