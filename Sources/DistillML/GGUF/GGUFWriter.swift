import Foundation

/// Builds a GGUF v3 file: metadata in insertion order, tensors encoded as F32, F16, BF16 or Q8_0 (or raw bytes
/// already in any ggml type), each tensor aligned to `alignment`. The whole file is assembled in memory and
/// written atomically, so a crash never leaves a half-written model behind.
public struct GGUFWriter {
    public var alignment: Int
    private var keys: [String] = []
    private var values: [String: GGUFValue] = [:]
    private var tensors: [(name: String, dims: [Int], type: GGMLType, data: [UInt8])] = []

    public init(alignment: Int = 32) {
        self.alignment = alignment
    }

    /// Sets a metadata key (keeps the first-set position if the key is set again).
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }

    /// Adds a tensor from Float32 values, encoded as `type`. `dims` is in ggml order (row length first).
    public mutating func addTensor(_ name: String, dims: [Int], values: [Float], as type: GGMLType = .f32) throws {
        let count = dims.reduce(1, *)
        guard values.count == count else {
            throw DistillMLError(file: "<gguf writer>", at: "tensor '\(name)'", "\(values.count) values for shape \(dims)")
        }
        let data: [UInt8]
        switch type {
        case .f32: data = values.withUnsafeBytes { Array($0) }
        case .f16: data = GGMLEncode.f16(values)
        case .bf16: data = GGMLEncode.bf16(values)
        case .q8_0:
            guard dims[0] % 32 == 0 else {
                throw DistillMLError(file: "<gguf writer>", at: "tensor '\(name)'", "Q8_0 needs a row length that is a multiple of 32, got \(dims[0])")
            }
            data = GGMLEncode.q8_0(values)
        case .q4_0, .q4_1:
            guard dims[0] % 32 == 0 else {
                throw DistillMLError(file: "<gguf writer>", at: "tensor '\(name)'", "\(type) needs a row length that is a multiple of 32, got \(dims[0])")
            }
            data = type == .q4_0 ? GGMLEncode.q4_0(values) : GGMLEncode.q4_1(values)
        default:
            throw DistillMLError(file: "<gguf writer>", at: "tensor '\(name)'", "writing \(type) is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1 are)")
        }
        tensors.append((name, dims, type, data))
    }

    /// Adds a tensor whose bytes are already encoded in `type` (e.g. copied from another GGUF).
    public mutating func addRawTensor(_ name: String, dims: [Int], type: GGMLType, bytes: [UInt8]) {
        tensors.append((name, dims, type, bytes))
    }

    /// The complete file as bytes.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func putValue(_ v: GGUFValue, tagged: Bool) {
            if tagged { put(v.type.rawValue) }
            switch v {
            case .uint8(let x): put(x)
            case .int8(let x): put(x)
            case .uint16(let x): put(x)
            case .int16(let x): put(x)
            case .uint32(let x): put(x)
            case .int32(let x): put(x)
            case .float32(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .uint64(let x): put(x)
            case .int64(let x): put(x)
            case .float64(let x): put(x.bitPattern)
            case .array(let type, let items):
                put(type.rawValue)
                put(UInt64(items.count))
                for item in items { putValue(item, tagged: false) }
            }
        }
        func pad() { while out.count % alignment != 0 { out.append(0) } }

        var allKeys = keys
        var allValues = values
        if alignment != 32 && allValues["general.alignment"] == nil {
            allKeys.append("general.alignment")
            allValues["general.alignment"] = .uint32(UInt32(alignment))
        }
        put(UInt32(0x4655_4747))
        put(UInt32(3))
        put(UInt64(tensors.count))
        put(UInt64(allKeys.count))
        for key in allKeys {
            putString(key)
            if let v = allValues[key] { putValue(v, tagged: true) }
        }
        var offset = 0
        for t in tensors {
            putString(t.name)
            put(UInt32(t.dims.count))
            for d in t.dims { put(UInt64(d)) }
            put(t.type.rawValue)
            put(UInt64(offset))
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        pad()
        for t in tensors {
            out.append(contentsOf: t.data)
            pad()
        }
        return out
    }

    public func write(to path: String) throws {
        do {
            try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DistillMLError(file: path, "cannot write GGUF: \(error.localizedDescription)")
        }
    }
}
