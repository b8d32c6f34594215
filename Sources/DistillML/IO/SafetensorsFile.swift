import Foundation

/// A memory-mapped HF safetensors file: u64 little-endian header length, a JSON header of
/// `name: {dtype, shape, data_offsets: [begin, end]}` (offsets from the end of the header), then the bytes.
/// Offsets, sizes and dtypes are validated on open, so a truncated file is an error, not a crash.
public final class SafetensorsFile: @unchecked Sendable {
    // @unchecked: immutable after init; the mapping is read-only.
    public struct TensorInfo: Sendable, Equatable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        /// From the start of the file.
        public var fileOffset: Int
        public var byteCount: Int
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    let mapping: MappedFile

    /// The dtypes `read(_:into:)` decodes.
    static let weightDTypes: Set<String> = ["F32", "F16", "BF16"]
    static let dtypeSizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public init(path: String) throws {
        mapping = try MappedFile(path: path)
        self.path = path
        let bytes = mapping.bytes
        guard bytes.count >= 8 else { throw DistillMLError(file: path, "file is \(bytes.count) bytes, too short for a safetensors header") }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8), headerLength <= 100_000_000 else {
            throw DistillMLError(file: path, at: "byte 0", "header length \(headerLength) exceeds the file (\(bytes.count) bytes): truncated or not safetensors")
        }
        let dataStart = 8 + Int(headerLength)
        let header = Data(bytes[8..<dataStart])
        guard let json = (try? JSONSerialization.jsonObject(with: header)) as? [String: Any] else {
            throw DistillMLError(file: path, at: "header", "not a JSON object: the file is corrupt or not safetensors")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        let dataBytes = bytes.count - dataStart
        // Sorted, so the error for a file with several bad entries is the same on every run.
        for name in json.keys.sorted() {
            let value = json[name]
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { metadata[k] = v as? String }
                continue
            }
            let at = "tensor '\(name)'"
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw DistillMLError(file: path, at: at, "entry needs dtype, shape and data_offsets [begin, end] (integers)")
            }
            guard let size = Self.dtypeSizes[dtype] else {
                throw DistillMLError(file: path, at: at, "unknown dtype '\(dtype)'")
            }
            // Overflow-checked: a shape of [2^32, 2^32] or offsets near 2^63 are errors, never a trap.
            var count = 1
            for d in shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !o, p <= dataBytes else {
                    throw DistillMLError(file: path, at: at, "shape \(shape) of \(dtype) needs more bytes than the file's "
                        + "\(dataBytes) bytes of data: the file is corrupt")
                }
                count = p
            }
            let byteCount = count * size  // count ≤ dataBytes and size ≤ 8: no overflow
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= dataBytes else {
                throw DistillMLError(file: path, at: at, "data_offsets \(offsets) lie outside the file's \(dataBytes) bytes of data "
                    + "(from byte \(dataStart)): the file is truncated or corrupt")
            }
            guard offsets[1] - offsets[0] == byteCount else {
                throw DistillMLError(file: path, at: at,
                    "data_offsets \(offsets) hold \(offsets[1] - offsets[0]) bytes, but shape \(shape) of \(dtype) needs \(byteCount)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, fileOffset: dataStart + offsets[0], byteCount: byteCount)
        }
        // Tensors may not share bytes (the reference library requires them to tile the data exactly).
        let ordered = tensors.values.filter { $0.byteCount > 0 }.sorted { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.fileOffset < a.fileOffset + a.byteCount {
            throw DistillMLError(file: path, at: "tensor '\(b.name)'",
                "its data (from byte \(b.fileOffset)) overlaps tensor '\(a.name)' (bytes \(a.fileOffset)..<\(a.fileOffset + a.byteCount)): the file is corrupt")
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Decodes a F32/F16/BF16 tensor into `dst` (which holds `elementCount` floats).
    public func read(_ info: TensorInfo, into dst: UnsafeMutablePointer<Float>) throws {
        let src = mapping.bytes.baseAddress! + info.fileOffset
        switch info.dtype {
        case "F32": GGMLDequantize.row(.f32, src, dst, count: info.elementCount)
        case "F16": GGMLDequantize.row(.f16, src, dst, count: info.elementCount)
        case "BF16": GGMLDequantize.row(.bf16, src, dst, count: info.elementCount)
        default: throw DistillMLError(file: path, at: "tensor '\(info.name)'", "dtype \(info.dtype) cannot be read as weights (F32, F16, BF16 can)")
        }
    }
}

/// Writes a safetensors file of F32 tensors (header keys sorted, padded to 8 bytes as the reference writer does).
public struct SafetensorsWriter {
    private var tensors: [(name: String, shape: [Int], values: [Float])] = []
    public var metadata: [String: String] = ["format": "pt"]

    public init() {}

    public mutating func add(_ name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "safetensors tensor '\(name)': \(values.count) values for shape \(shape)")
        tensors.append((name, shape, values))
    }

    public func write(to path: String) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        let sorted = tensors.sorted { $0.name < $1.name }
        for t in sorted {
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]]
            offset += 4 * t.values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in sorted { t.values.withUnsafeBytes { out.append(contentsOf: $0) } }
        do { try out.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw DistillMLError(file: path, "cannot write safetensors: \(error.localizedDescription)")
        }
    }
}
