import Foundation

/// A GGUF v2/v3 file, memory-mapped: its metadata, its tensor table, and read-only views of tensor bytes.
///
/// Layout per ggml `docs/gguf.md`: magic, version, counts, key/value metadata, tensor infos, padding to
/// `general.alignment` (default 32), then tensor data. Everything is validated on open (counts against the file
/// size, tensor extents, alignment), so a truncated or corrupt file is an error naming the byte, never a crash.
/// This is not a writer: see `GGUFWriter`.
public final class GGUFFile: @unchecked Sendable {
    // @unchecked: all stored properties are immutable after init; the mapping is read-only.
    public let path: String
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order (the dictionary loses it; the writer and dumps want it).
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Start of the tensor-data section, from the start of the file.
    public let dataOffset: Int
    let mapping: MappedFile
    private let tensorIndex: [String: Int]

    public convenience init(path: String) throws {
        try self.init(mapping: MappedFile(path: path))
    }

    init(mapping: MappedFile) throws {
        self.mapping = mapping
        path = mapping.path
        var r = GGUFByteReader(bytes: mapping.bytes, path: mapping.path)
        let magic = try r.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {
            throw r.fail("not a GGUF file (magic is 0x\(String(magic, radix: 16)), expected 'GGUF')", at: 0)
        }
        let rawVersion = try r.read(UInt32.self, "version")
        guard rawVersion == 2 || rawVersion == 3 else {
            let hint = rawVersion.byteSwapped <= 3 ? " (a big-endian GGUF; convert it with gguf-convert-endian)" : ""
            throw r.fail("unsupported GGUF version \(rawVersion)\(hint); this reader handles v2 and v3", at: 4)
        }
        version = Int(rawVersion)
        // A tensor info takes at least 8+4+8+4+8 bytes; a key/value pair at least 8+4+1.
        let tensorCount = try r.readCount("tensor count", minElementSize: 32)
        let kvCount = try r.readCount("metadata count", minElementSize: 13)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for i in 0..<kvCount {
            let key = try r.readString("key of metadata entry \(i)")
            let at = r.offset
            let code = try r.read(UInt32.self, "type of '\(key)'")
            guard let type = GGUFValueType(rawValue: code) else {
                throw r.fail("metadata '\(key)': unknown value type \(code): the file is corrupt or too new", at: at)
            }
            guard metadata[key] == nil else { throw r.fail("metadata key '\(key)' appears twice", at: at) }
            metadata[key] = try r.readValue(type: type, "'\(key)'")
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0 else {
                throw DistillMLError(file: path, at: "key 'general.alignment'", "must be a power of two, found \(a)")
            }
            alignment = v
        }
        self.alignment = alignment

        var infos: [(name: String, dims: [Int], type: GGMLType, relOffset: Int, at: Int)] = []
        infos.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let at = r.offset
            let name = try r.readString("name of tensor \(i)")
            let nDims = try r.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard (1...4).contains(nDims) else {
                throw r.fail("tensor '\(name)' has \(nDims) dimensions (GGUF allows 1 to 4): the file is corrupt", at: at)
            }
            var dims: [Int] = []
            for d in 0..<Int(nDims) {
                let n = try r.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard n > 0, n < 1 << 40 else { throw r.fail("tensor '\(name)' dimension \(d) is \(n): the file is corrupt", at: at) }
                dims.append(Int(n))
            }
            let type = GGMLType(rawValue: try r.read(UInt32.self, "type of tensor '\(name)'"))
            let rel = try r.read(UInt64.self, "offset of tensor '\(name)'")
            guard rel < UInt64(mapping.bytes.count) else {
                throw r.fail("tensor '\(name)' offset \(rel) lies beyond the end of the file: the file is truncated or corrupt", at: at)
            }
            infos.append((name, dims, type, Int(rel), at))
        }
        let dataOffset = (r.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset

        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        for info in infos {
            let loc = "tensor '\(info.name)'"
            guard let geometry = info.type.blockGeometry else {
                let hint = info.type.isIQuant ? " (an i-quant; use a Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K or F16 GGUF of this model)" : ""
                throw DistillMLError(file: path, at: loc, "element type \(info.type) is not supported by this reader\(hint)")
            }
            guard info.dims[0] % geometry.elements == 0 else {
                throw DistillMLError(file: path, at: loc,
                    "row length \(info.dims[0]) is not a multiple of the \(info.type) block size \(geometry.elements)")
            }
            let (elements, overflow) = info.dims.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements / geometry.elements <= Int.max / geometry.bytes else {
                throw DistillMLError(file: path, at: loc, "shape \(info.dims) overflows: the file is corrupt")
            }
            let byteCount = elements / geometry.elements * geometry.bytes
            guard info.relOffset % alignment == 0 else {
                throw DistillMLError(file: path, at: loc, "data offset \(info.relOffset) is not a multiple of the alignment \(alignment)")
            }
            let start = dataOffset + info.relOffset
            guard start <= mapping.bytes.count, byteCount <= mapping.bytes.count - start else {
                throw DistillMLError(file: path, at: loc,
                    "data (\(byteCount) bytes at byte \(start)) runs past the end of the file (\(mapping.bytes.count) bytes): "
                    + "the file is truncated; download it again")
            }
            guard index[info.name] == nil else { throw DistillMLError(file: path, at: loc, "tensor name appears twice") }
            index[info.name] = tensors.count
            tensors.append(GGUFTensorInfo(name: info.name, dims: info.dims, type: info.type, fileOffset: start, byteCount: byteCount))
        }
        // Tensors may not share bytes (llama.cpp requires them laid end to end), so the data a file describes is at
        // most its size: what loaders allocate from it is bounded by the file, not by what the header claims.
        let ordered = tensors.filter { $0.byteCount > 0 }.sorted { ($0.fileOffset, $0.name) < ($1.fileOffset, $1.name) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.fileOffset < a.fileOffset + a.byteCount {
            throw DistillMLError(file: path, at: "tensor '\(b.name)'",
                "its data (from byte \(b.fileOffset)) overlaps tensor '\(a.name)' (bytes \(a.fileOffset)..<\(a.fileOffset + a.byteCount)): "
                + "the file is corrupt")
        }
        self.tensors = tensors
        tensorIndex = index
    }

    // MARK: - Tensors

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Drops the file's pages read so far from the resident set once the loaders have copied what they keep (see
    /// `MappedFile.releaseResidentPages`); tensor bytes stay readable.
    public func releaseResidentPages() { mapping.releaseResidentPages() }

    /// The same for one tensor's pages, once it has been copied (loaders go tensor by tensor, so the peak stays low).
    public func releaseResidentPages(of tensor: GGUFTensorInfo) {
        mapping.releaseResidentPages(tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount))
    }

    /// The raw bytes of a tensor, valid while this file object is alive.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount)])
    }

    // MARK: - Metadata accessors (nil when absent or of another type)

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
    public func float(_ key: String) -> Float? { double(key).map(Float.init) }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    public func stringArray(_ key: String) -> [String]? {
        guard case .array(.string, let items)? = metadata[key] else { return nil }
        return items.compactMap(\.stringValue)
    }

    /// Any integer-typed array as Ints (token types are i32; some writers use u32).
    public func intArray(_ key: String) -> [Int]? {
        guard case .array(let type, let items)? = metadata[key], type.fixedSize != nil, type != .float32, type != .float64,
              type != .bool else { return nil }
        return items.compactMap(\.intValue)
    }

    public func floatArray(_ key: String) -> [Float]? {
        guard case .array(let type, let items)? = metadata[key], type == .float32 || type == .float64 else { return nil }
        return items.compactMap { $0.doubleValue.map(Float.init) }
    }

    /// The architecture (`general.architecture`), e.g. "llama" or "qwen2".
    public var architecture: String? { string("general.architecture") }
}
