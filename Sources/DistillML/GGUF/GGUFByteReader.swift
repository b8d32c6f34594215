/// A bounds-checked little-endian cursor over a GGUF file's bytes: every read that would run past the end
/// throws an error naming the byte offset and what was being read, so a truncated file never crashes.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0
    /// Array elements read so far: each becomes a `GGUFValue` of a few dozen bytes, so their total is capped.
    var arrayElements = 0
    /// 2^24 elements (a 262k-token vocabulary with types and merges needs under 2^20): at most ~0.5 GB of values.
    static let maxArrayElements = 1 << 24

    var remaining: Int { bytes.count - offset }

    func fail(_ message: String, at position: Int? = nil) -> DistillMLError {
        DistillMLError(file: path, at: "byte \(position ?? offset)", message)
    }

    mutating func need(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw fail("file ends while reading \(what()) (needs \(count) bytes, \(remaining) left): "
                + "the file is truncated or corrupt; download it again")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readCount(_ what: @autoclosure () -> String, minElementSize: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, what())
        // Every element takes at least minElementSize bytes, so a count larger than that bound is corrupt.
        guard raw <= UInt64(remaining / max(minElementSize, 1)) else {
            throw fail("\(what()) claims \(raw) elements but only \(remaining) bytes remain: the file is corrupt", at: start)
        }
        return Int(raw)
    }

    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let count = try readCount("length of \(what())", minElementSize: 1)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        // Invalid UTF-8 is repaired rather than rejected: token strings in old files are not always valid UTF-8.
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func readValue(type: GGUFValueType, _ what: @autoclosure () -> String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, what()))
        case .int8: return .int8(try read(Int8.self, what()))
        case .uint16: return .uint16(try read(UInt16.self, what()))
        case .int16: return .int16(try read(Int16.self, what()))
        case .uint32: return .uint32(try read(UInt32.self, what()))
        case .int32: return .int32(try read(Int32.self, what()))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what())))
        case .bool:
            let at = offset
            let b = try read(UInt8.self, what())
            guard b <= 1 else { throw fail("\(what()): bool must be 0 or 1, found \(b)", at: at) }
            return .bool(b == 1)
        case .string: return .string(try readString(what()))
        case .uint64: return .uint64(try read(UInt64.self, what()))
        case .int64: return .int64(try read(Int64.self, what()))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what())))
        case .array:
            guard depth < 8 else { throw fail("\(what()): arrays nested deeper than 8 levels: the file is corrupt") }
            let at = offset
            let code = try read(UInt32.self, "element type of \(what())")
            guard let elementType = GGUFValueType(rawValue: code) else {
                throw fail("\(what()): unknown array element type \(code): the file is corrupt or too new", at: at)
            }
            let count = try readCount("element count of \(what())", minElementSize: elementType.fixedSize ?? 8)
            arrayElements += count  // count ≤ the file's size: no overflow
            guard arrayElements <= Self.maxArrayElements else {
                throw fail("\(what()): metadata arrays hold more than \(Self.maxArrayElements) elements in all: "
                    + "the file is corrupt or not a model", at: at)
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for i in 0..<count {
                items.append(try readValue(type: elementType, "\(what())[\(i)]", depth: depth + 1))
            }
            return .array(elementType, items)
        }
    }
}
