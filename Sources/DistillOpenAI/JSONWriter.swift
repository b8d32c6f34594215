/// A minimal JSON writer for request bodies: strings escaped per RFC 8259, numbers in Swift's shortest round-trip
/// form. Written by hand because `JSONSerialization` (bridging every value through `Any`) was a third of the client's
/// CPU per request in `distill bench http`.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the next member or element needs a comma before it, per open container.
    private var needsComma: [Bool] = []
    /// A key was just written: the next value completes its member.
    private var pendingValue = false

    init() { bytes.reserveCapacity(512) }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"name":`; the value written next belongs to it.
    mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        pendingValue = true  // the value that follows gets no comma of its own
    }

    mutating func string(_ s: String) { separate(); appendString(s) }
    mutating func int(_ v: Int) { separate(); bytes.append(contentsOf: String(v).utf8) }
    mutating func bool(_ v: Bool) { separate(); bytes.append(contentsOf: (v ? "true" : "false").utf8) }

    /// Non-finite numbers are not JSON; they are written as null (the server then rejects the field by name).
    mutating func double(_ v: Double) {
        separate()
        bytes.append(contentsOf: (v.isFinite ? "\(v)" : "null").utf8)
    }

    /// Inserts already-valid JSON text as a value (a caller-supplied JSON schema).
    mutating func raw(_ json: String) { separate(); bytes.append(contentsOf: json.utf8) }

    private mutating func separate() {
        if pendingValue {
            pendingValue = false
            if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
            return
        }
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func appendString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
