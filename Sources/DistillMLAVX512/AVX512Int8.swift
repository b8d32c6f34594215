#if DISTILL_AVX512
import _Builtin_intrinsics.intel

/// The int8-activation kernels with AVX-512 VNNI (`vpdpbusd`: four u8×s8 products summed into each i32 lane, one
/// instruction for what AVX2 does with maddubs + madd).
///
/// This module is compiled for Cascade Lake (AVX-512 F/CD/BW/DQ/VL + VNNI; Zen 4 and later have all of it), so
/// nothing in it may run on a CPU without those: DistillML calls it only after checking the CPU's flags.
///
/// Both kernels compute one group of 16 weight rows (one row per i32/f32 lane) against `inputs` input rows, in the
/// row-group layout DistillML's `QuantizedMatrix` stores for int8 activations (see `QuantizedMatrix+Int8.swift` and `store(row:block:)`). Each lane's integer
/// block sum is exact, and each lane then accumulates block by block with the same two FMAs the AVX2 kernel uses,
/// so the two kernels give the same bits.
public enum AVX512Int8 {
    typealias I512 = SIMD8<Int64>  // __m512i
    typealias F512 = SIMD16<Float>  // __m512

    @inline(__always) static func load(_ p: UnsafeRawPointer, _ offset: Int) -> I512 {
        p.loadUnaligned(fromByteOffset: offset, as: I512.self)
    }

    /// The 4 input codes at `offset` in every lane.
    @inline(__always) static func quad(_ p: UnsafeRawPointer, _ offset: Int) -> I512 {
        _mm512_set1_epi32(p.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    /// 4-bit rows: `codes` holds, per block, 4 × 64 bytes; lane j of vector m has row j's elements 4m...4m+3 in its
    /// bytes' low nibbles and 16+4m...16+4m+3 in the high ones. acc[t] (16 floats) += Σ_b (d_b·dx_tb)·Σqw·qx + m_b·sx_tb.
    public static func fourBit(codes: UnsafeRawPointer, scales: UnsafePointer<Float>, mins: UnsafePointer<Float>, blocks: Int,
                               x: UnsafeRawPointer, xStride: Int, dx: UnsafePointer<Float>, sx: UnsafePointer<Float>,
                               inputs: Int, acc: UnsafeMutablePointer<Float>) {
        let mask = _mm512_set1_epi8(0x0F)
        let out = UnsafeMutableRawPointer(acc)
        for t in 0..<inputs { out.storeBytes(of: F512(), toByteOffset: 64 &* t, as: F512.self) }
        for b in 0..<blocks {
            let w = codes + 256 &* b
            let v0 = load(w, 0), v1 = load(w, 64), v2 = load(w, 128), v3 = load(w, 192)
            let q0 = _mm512_and_si512(v0, mask), q1 = _mm512_and_si512(v1, mask)
            let q2 = _mm512_and_si512(v2, mask), q3 = _mm512_and_si512(v3, mask)
            let q4 = _mm512_and_si512(_mm512_srli_epi16(v0, 4), mask), q5 = _mm512_and_si512(_mm512_srli_epi16(v1, 4), mask)
            let q6 = _mm512_and_si512(_mm512_srli_epi16(v2, 4), mask), q7 = _mm512_and_si512(_mm512_srli_epi16(v3, 4), mask)
            let d = UnsafeRawPointer(scales + 16 &* b).loadUnaligned(as: F512.self)
            let m = UnsafeRawPointer(mins + 16 &* b).loadUnaligned(as: F512.self)
            for t in 0..<inputs {
                let xb = x + (t &* xStride &+ 32 &* b)
                var i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q0, quad(xb, 0))
                i = _mm512_dpbusd_epi32(i, q1, quad(xb, 4))
                i = _mm512_dpbusd_epi32(i, q2, quad(xb, 8))
                i = _mm512_dpbusd_epi32(i, q3, quad(xb, 12))
                i = _mm512_dpbusd_epi32(i, q4, quad(xb, 16))
                i = _mm512_dpbusd_epi32(i, q5, quad(xb, 20))
                i = _mm512_dpbusd_epi32(i, q6, quad(xb, 24))
                i = _mm512_dpbusd_epi32(i, q7, quad(xb, 28))
                let e = t &* blocks &+ b
                var a = out.loadUnaligned(fromByteOffset: 64 &* t, as: F512.self)
                a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(d, _mm512_set1_ps(dx[e])), a)
                a = _mm512_fmadd_ps(m, _mm512_set1_ps(sx[e]), a)
                out.storeBytes(of: a, toByteOffset: 64 &* t, as: F512.self)
            }
        }
    }

    /// 8-bit rows: `codes` holds, per block, 8 × 64 bytes of signed codes, lane j of vector k = row j's elements
    /// 4k...4k+3. `xu` is the input codes + 128 (dpbusd multiplies unsigned by signed), and `sums128` per block and
    /// lane 128·Σqw, taken off again. acc[t] (16 floats) += Σ_b (d_b·dx_tb)·Σqw·qx.
    public static func eightBit(codes: UnsafeRawPointer, scales: UnsafePointer<Float>, sums128: UnsafePointer<Int32>, blocks: Int,
                                xu: UnsafeRawPointer, xStride: Int, dx: UnsafePointer<Float>,
                                inputs: Int, acc: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(acc)
        for t in 0..<inputs { out.storeBytes(of: F512(), toByteOffset: 64 &* t, as: F512.self) }
        for b in 0..<blocks {
            let w = codes + 512 &* b
            let w0 = load(w, 0), w1 = load(w, 64), w2 = load(w, 128), w3 = load(w, 192)
            let w4 = load(w, 256), w5 = load(w, 320), w6 = load(w, 384), w7 = load(w, 448)
            let bias = load(UnsafeRawPointer(sums128 + 16 &* b), 0)
            let d = UnsafeRawPointer(scales + 16 &* b).loadUnaligned(as: F512.self)
            for t in 0..<inputs {
                let xb = xu + (t &* xStride &+ 32 &* b)
                var i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), quad(xb, 0), w0)
                i = _mm512_dpbusd_epi32(i, quad(xb, 4), w1)
                i = _mm512_dpbusd_epi32(i, quad(xb, 8), w2)
                i = _mm512_dpbusd_epi32(i, quad(xb, 12), w3)
                i = _mm512_dpbusd_epi32(i, quad(xb, 16), w4)
                i = _mm512_dpbusd_epi32(i, quad(xb, 20), w5)
                i = _mm512_dpbusd_epi32(i, quad(xb, 24), w6)
                i = _mm512_dpbusd_epi32(i, quad(xb, 28), w7)
                i = _mm512_sub_epi32(i, bias)
                var a = out.loadUnaligned(fromByteOffset: 64 &* t, as: F512.self)
                a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(d, _mm512_set1_ps(dx[t &* blocks &+ b])), a)
                out.storeBytes(of: a, toByteOffset: 64 &* t, as: F512.self)
            }
        }
    }
}
#endif
