import Foundation

extension JSONValue {
    /// Compact JSON, members in their order, non-ASCII written as UTF-8 (not `\u` escapes).
    public func compactData() -> Data {
        var out: [UInt8] = []
        write(into: &out, sortKeys: false)
        return Data(out)
    }

    /// The canonical form used for hashing (splits, duplicate detection): compact, keys sorted by their UTF-8 bytes,
    /// repeated keys reduced to the last, numbers as written. The same item gives the same bytes on every machine,
    /// whatever the file's layout (pretty array or JSONL) or key order.
    public func canonicalData() -> Data {
        var out: [UInt8] = []
        write(into: &out, sortKeys: true)
        return Data(out)
    }

    private func write(into out: inout [UInt8], sortKeys: Bool) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(0x5B)
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(0x2C) }
                item.write(into: &out, sortKeys: sortKeys)
            }
            out.append(0x5D)
        case .object(var members):
            if sortKeys {
                var last: [String: Int] = [:]
                for (k, m) in members.enumerated() { last[m.key] = k }
                members = members.enumerated().filter { last[$0.element.key] == $0.offset }.map(\.element)
                members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            }
            out.append(0x7B)
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(0x2C) }
                Self.writeString(m.key, into: &out)
                out.append(0x3A)
                m.value.write(into: &out, sortKeys: sortKeys)
            }
            out.append(0x7D)
        }
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`.
    static func writeString(_ string: String, into out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var string = string
        out.append(0x22)
        string.withUTF8 { bytes in
            var runStart = 0
            for (i, b) in bytes.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
                // Bytes that need no escape are copied in runs.
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch b {
                case 0x22: out += [0x5C, 0x22]
                case 0x5C: out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, 0x6E]
                case 0x0D: out += [0x5C, 0x72]
                case 0x09: out += [0x5C, 0x74]
                case 0x08: out += [0x5C, 0x62]
                case 0x0C: out += [0x5C, 0x66]
                default: out += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(0x22)
    }
}

/// The first 128 bits of SHA-256 of an item's canonical JSON: equal for exact duplicates (whatever the key order or
/// layout), stored inline (no allocation) so millions fit in a set.
public struct ContentKey: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(_ value: JSONValue) {
        let d = SHA256.hash(value.canonicalData())
        high = d[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = d[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
