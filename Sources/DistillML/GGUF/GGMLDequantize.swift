import Foundation

/// Dequantisation of ggml storage types to Float32, ported from ggml-quants.c `dequantize_row_*`.
///
/// Each `row` function reads `count` values (a multiple of the type's block size) from `src` and writes them to
/// `dst`. Block layouts are in ggml-common.h; all multi-byte fields are little-endian and may be unaligned.
public enum GGMLDequantize {
    /// Types `row` can decode.
    public static let supported: Set<GGMLType> = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    /// Decodes `count` values of `type` from `src` into `dst`.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        switch type {
        case .f32: dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        case .f16: for i in 0..<count { dst[i] = half(src, 2 * i) }
        case .bf16:
            for i in 0..<count {
                let h = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                dst[i] = Float(bitPattern: UInt32(h) << 16)
            }
        case .q8_0: q8_0(src, dst, count)
        case .q4_0, .q4_1: q4(src, dst, count, hasMin: type == .q4_1)
        case .q5_0, .q5_1: q5(src, dst, count, hasMin: type == .q5_1)
        case .q4_K: q4_K(src, dst, count)
        case .q5_K: q5_K(src, dst, count)
        case .q6_K: q6_K(src, dst, count)
        default: preconditionFailure("GGMLDequantize.row: \(type) is not supported; check `supported` first")
        }
    }

    /// A whole tensor as Float32 (ggml order: rows of `dims[0]`), decoded row-parallel.
    public static func tensor(_ info: GGUFTensorInfo, in file: GGUFFile) throws -> [Float] {
        guard supported.contains(info.type) else {
            throw DistillMLError(file: file.path, at: "tensor '\(info.name)'",
                "cannot dequantise \(info.type); supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K")
        }
        let raw = file.bytes(of: info)
        let rowBytes = info.byteCount / info.rowCount
        let rowLength = info.rowLength
        var out = [Float](repeating: 0, count: info.elementCount)
        out.withUnsafeMutableBufferPointer { dst in
            let d = dst.baseAddress!
            let s = raw.baseAddress!
            Parallel.forEach(info.rowCount) { r in
                row(info.type, s + r * rowBytes, d + r * rowLength, count: rowLength)
            }
        }
        return out
    }

    // MARK: - 32-element blocks

    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for b in 0..<(count / 32) {
            let block = src + b * 34
            let d = half(block, 0)
            for j in 0..<32 { dst[b * 32 + j] = Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
        }
    }

    /// Q4_0: y = (q − 8)·d. Q4_1: y = q·d + m. Low nibbles are elements 0..15, high nibbles 16..31.
    static func q4(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int, hasMin: Bool) {
        let blockBytes = hasMin ? 20 : 18
        let qsOffset = hasMin ? 4 : 2
        for b in 0..<(count / 32) {
            let block = src + b * blockBytes
            let d = half(block, 0)
            let m: Float = hasMin ? half(block, 2) : -8 * d
            let y = dst + b * 32
            for j in 0..<16 {
                let q = block.load(fromByteOffset: qsOffset + j, as: UInt8.self)
                y[j] = Float(q & 0xF) * d + m
                y[j + 16] = Float(q >> 4) * d + m
            }
        }
    }

    /// Q5_0/Q5_1: as Q4 with a fifth bit per element from the 32-bit `qh`.
    static func q5(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int, hasMin: Bool) {
        let blockBytes = hasMin ? 24 : 22
        let qhOffset = hasMin ? 4 : 2
        for b in 0..<(count / 32) {
            let block = src + b * blockBytes
            let d = half(block, 0)
            let m: Float = hasMin ? half(block, 2) : -16 * d
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self))
            let y = dst + b * 32
            for j in 0..<16 {
                let q = UInt32(block.load(fromByteOffset: qhOffset + 4 + j, as: UInt8.self))
                let x0 = (q & 0xF) | (((qh >> UInt32(j)) << 4) & 0x10)
                let x1 = (q >> 4) | ((qh >> UInt32(j + 12)) & 0x10)
                y[j] = Float(x0) * d + m
                y[j + 16] = Float(x1) * d + m
            }
        }
    }

    // MARK: - 256-element K-quant super-blocks

    /// ggml `get_scale_min_k4`: 6-bit scale and min number `j` (0..7) packed in 12 bytes.
    @inline(__always) static func scaleMin(_ j: Int, _ q: UnsafeRawPointer) -> (Float, Float) {
        func u(_ i: Int) -> UInt8 { q.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (Float(u(j) & 63), Float(u(j + 4) & 63)) }
        let d = (u(j + 4) & 0xF) | ((u(j - 4) >> 6) << 4)
        let m = (u(j + 4) >> 4) | ((u(j) >> 6) << 4)
        return (Float(d), Float(m))
    }

    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for b in 0..<(count / 256) {
            let block = src + b * 144
            let d = half(block, 0), dmin = half(block, 2)
            let scales = block + 4, qs = block + 16
            for c in 0..<4 {
                let (sc1, m1) = scaleMin(2 * c, scales), (sc2, m2) = scaleMin(2 * c + 1, scales)
                let y = dst + b * 256 + c * 64
                for l in 0..<32 {
                    let q = qs.load(fromByteOffset: 32 * c + l, as: UInt8.self)
                    y[l] = d * sc1 * Float(q & 0xF) - dmin * m1
                    y[l + 32] = d * sc2 * Float(q >> 4) - dmin * m2
                }
            }
        }
    }

    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for b in 0..<(count / 256) {
            let block = src + b * 176
            let d = half(block, 0), dmin = half(block, 2)
            let scales = block + 4, qh = block + 16, qs = block + 48
            for c in 0..<4 {
                let (sc1, m1) = scaleMin(2 * c, scales), (sc2, m2) = scaleMin(2 * c + 1, scales)
                let bit1 = UInt8(1) << UInt8(2 * c), bit2 = UInt8(2) << UInt8(2 * c)
                let y = dst + b * 256 + c * 64
                for l in 0..<32 {
                    let q = qs.load(fromByteOffset: 32 * c + l, as: UInt8.self)
                    let h = qh.load(fromByteOffset: l, as: UInt8.self)
                    y[l] = d * sc1 * Float((q & 0xF) + (h & bit1 != 0 ? 16 : 0)) - dmin * m1
                    y[l + 32] = d * sc2 * Float((q >> 4) + (h & bit2 != 0 ? 16 : 0)) - dmin * m2
                }
            }
        }
    }

    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        for b in 0..<(count / 256) {
            let block = src + b * 210
            let d = half(block, 208)
            for n in 0..<2 {
                let ql = block + 64 * n, qh = block + 128 + 32 * n, sc = block + 192 + 8 * n
                let y = dst + b * 256 + 128 * n
                for l in 0..<32 {
                    let i = l / 16
                    let a = Int(ql.load(fromByteOffset: l, as: UInt8.self))
                    let a2 = Int(ql.load(fromByteOffset: l + 32, as: UInt8.self))
                    let h = Int(qh.load(fromByteOffset: l, as: UInt8.self))
                    let q1 = ((a & 0xF) | ((h >> 0) & 3) << 4) - 32
                    let q2 = ((a2 & 0xF) | ((h >> 2) & 3) << 4) - 32
                    let q3 = ((a >> 4) | ((h >> 4) & 3) << 4) - 32
                    let q4 = ((a2 >> 4) | ((h >> 6) & 3) << 4) - 32
                    func s(_ k: Int) -> Float { Float(sc.load(fromByteOffset: k, as: Int8.self)) }
                    y[l] = d * s(i) * Float(q1)
                    y[l + 32] = d * s(i + 2) * Float(q2)
                    y[l + 64] = d * s(i + 4) * Float(q3)
                    y[l + 96] = d * s(i + 6) * Float(q4)
                }
            }
        }
    }
}
