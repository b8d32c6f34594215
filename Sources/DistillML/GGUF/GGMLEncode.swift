/// Encoders from Float32 into ggml storage types, following ggml-quants.c's reference (`*_ref`) quantizers.
public enum GGMLEncode {
    public static func f16(_ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: x.count * 2)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in x.enumerated() { raw.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        }
        return out
    }

    /// BF16 with round-to-nearest-even, as ggml's `ggml_compute_fp32_to_bf16` (NaN kept quiet).
    public static func bf16(_ x: [Float]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: x.count * 2)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in x.enumerated() {
                let u = v.bitPattern
                let h: UInt16 = v.isNaN ? UInt16((u >> 16) | 64) : UInt16((u &+ (0x7FFF &+ ((u >> 16) & 1))) >> 16)
                raw.storeBytes(of: h.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        }
        return out
    }

    /// `quantize_row_q8_0_ref`: per block of 32, d = amax/127, q = round(x/d), d stored as f16.
    public static func q8_0(_ x: [Float]) -> [UInt8] {
        let blocks = x.count / 32
        var out = [UInt8](repeating: 0, count: blocks * 34)
        out.withUnsafeMutableBytes { raw in
            for b in 0..<blocks {
                var amax: Float = 0
                for j in 0..<32 { amax = max(amax, abs(x[b * 32 + j])) }
                let d = amax / 127
                let id: Float = d != 0 ? 1 / d : 0
                raw.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: b * 34, as: UInt16.self)
                for j in 0..<32 {
                    raw.storeBytes(of: Int8((x[b * 32 + j] * id).rounded()), toByteOffset: b * 34 + 2 + j, as: Int8.self)
                }
            }
        }
        return out
    }

    /// `quantize_row_q4_0_ref`: per block of 32, d = (the value of largest magnitude)/−8, q = min(15, trunc(x/d + 8.5)),
    /// element j in the low nibble of byte j and element j+16 in its high nibble; d as f16 (18 bytes a block).
    public static func q4_0(_ x: [Float]) -> [UInt8] {
        let blocks = x.count / 32
        var out = [UInt8](repeating: 0, count: blocks * 18)
        out.withUnsafeMutableBytes { raw in
            for b in 0..<blocks {
                var amax: Float = 0, vmax: Float = 0
                for j in 0..<32 where amax < abs(x[b * 32 + j]) {
                    amax = abs(x[b * 32 + j])
                    vmax = x[b * 32 + j]
                }
                let d = vmax / -8
                let id: Float = d != 0 ? 1 / d : 0
                raw.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: b * 18, as: UInt16.self)
                for j in 0..<16 {
                    let lo = min(15, Int8(x[b * 32 + j] * id + 8.5)), hi = min(15, Int8(x[b * 32 + 16 + j] * id + 8.5))
                    raw.storeBytes(of: UInt8(lo) | UInt8(hi) << 4, toByteOffset: b * 18 + 2 + j, as: UInt8.self)
                }
            }
        }
        return out
    }

    /// `quantize_row_q4_1_ref`: per block of 32, d = (max − min)/15, m = min, q = min(15, trunc((x − m)/d + 0.5)),
    /// nibbles as Q4_0; d and m as f16 (20 bytes a block).
    public static func q4_1(_ x: [Float]) -> [UInt8] {
        let blocks = x.count / 32
        var out = [UInt8](repeating: 0, count: blocks * 20)
        out.withUnsafeMutableBytes { raw in
            for b in 0..<blocks {
                var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
                for j in 0..<32 {
                    lo = min(lo, x[b * 32 + j])
                    hi = max(hi, x[b * 32 + j])
                }
                let d = (hi - lo) / 15
                let id: Float = d != 0 ? 1 / d : 0
                raw.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: b * 20, as: UInt16.self)
                raw.storeBytes(of: Float16(lo).bitPattern.littleEndian, toByteOffset: b * 20 + 2, as: UInt16.self)
                for j in 0..<16 {
                    let q0 = min(15, Int8((x[b * 32 + j] - lo) * id + 0.5)), q1 = min(15, Int8((x[b * 32 + 16 + j] - lo) * id + 0.5))
                    raw.storeBytes(of: UInt8(q0) | UInt8(q1) << 4, toByteOffset: b * 20 + 4 + j, as: UInt8.self)
                }
            }
        }
        return out
    }
}
