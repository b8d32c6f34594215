#if DISTILL_AVX2
import _Builtin_intrinsics.intel
import DistillMLAVX512
#endif
import DistillData
import Foundation

/// The int8-activation kernels (`Activations.int8`): llama.cpp's arithmetic for Q4_0/Q4_1/Q8_0 weights.
///
/// Each input row is quantised per 32-block to int8 codes qx with scale dx = amax/127 (`quantize_row_q8_1`), and
/// sx = dx·Σqx. A block's contribution is then dw·dx·Σ(qw·qx) (+ mw·sx for 4-bit, whose codes are unsigned with
/// a min), the integer sum exact.
///
/// Weights are stored in groups of 16 rows, one row per SIMD lane: for each block, vector k holds elements 4k...4k+3
/// of all 16 rows, so one u8×s8 dot-product instruction against the input's 4 codes broadcast advances 16 rows at
/// once, and the block's 16 scales are one vector. Two kernels read that layout:
/// - AVX-512 VNNI (`DistillMLAVX512`, one `vpdpbusd` per 4 codes × 16 rows), used when the CPU has it;
/// - AVX2 (below, `maddubs` + `madd`, two halves of 8 rows).
/// Each lane accumulates block by block with the same two FMAs in both, so they give the same bits, and a row's
/// result does not depend on which other inputs share its batch.
///
/// The error is ggml's: inputs rounded to 8 bits (reported by the parity tests). Built only with AVX2
/// (`DISTILL_AVX2`, set by Package.swift for x86-64 unless DISTILL_PORTABLE=1); elsewhere models use the
/// fp32-activation kernels.
extension QuantizedMatrix {
    static let groupRows = 16

    static func groups(_ rows: Int) -> Int { (rows + groupRows - 1) / groupRows }

    /// Which instructions compute the int8 products.
    enum Int8Kernel: Sendable {
        case avx2
        case avx512vnni

        /// AVX-512 VNNI where the CPU (and the kernel, which hides the flags when it does not save those registers)
        /// has every feature `DistillMLAVX512` is compiled for; `DISTILL_KERNELS=avx2` forces AVX2.
        static let best: Int8Kernel = {
            #if DISTILL_AVX2
            if ProcessInfo.processInfo.environment["DISTILL_KERNELS"] == "avx2" { return .avx2 }
            let needed = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"]
            return needed.allSatisfy(CPUFlags.current.contains) ? .avx512vnni : .avx2
            #else
            return .avx2
            #endif
        }()
    }

    static var int8Available: Bool {
        #if DISTILL_AVX2
        return true
        #else
        return false
        #endif
    }

    /// Stores block `b` of row `r` in the row-group layout. 4-bit: 4 × 64 bytes per (group, block); byte i of lane j
    /// in vector m holds element 4m + i of row j in its low nibble and element 16 + 4m + i in its high one. 8-bit:
    /// 8 × 64 bytes, byte i of lane j in vector k the signed code of element 4k + i. Scales (and mins, or 128·Σq)
    /// are 16 per (group, block), lane j for row j.
    func storeInt8(row r: Int, block b: Int, _ values: [UInt8], scale: Float, min: Float) {
        let lane = r % Self.groupRows, slot = (r / Self.groupRows) * blocksPerRow + b
        scales[slot * Self.groupRows + lane] = scale
        if fourBit {
            mins[slot * Self.groupRows + lane] = min
            let base = codes + slot * 256
            for e in 0..<16 {
                base[64 * (e / 4) + 4 * lane + e % 4] = values[e] | (values[e + 16] << 4)
            }
        } else {
            let base = codes + slot * 512
            var sum: Int32 = 0
            for e in 0..<32 {
                base[64 * (e / 4) + 4 * lane + e % 4] = values[e] &- 128  // q + 128 → q as Int8's bit pattern
                sum += Int32(values[e]) - 128
            }
            codeSums[slot * Self.groupRows + lane] = 128 * sum
        }
    }

    /// out(N, rows) = inp(N, cols) · Wᵀ with int8 activations.
    func matmulInt8(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, N: Int) {
        Self.matmulInt8([(self, out)], inp, N: N)
    }

    /// Several matrices of one width against one input (q/k/v, gate/up): the input is quantised once, and the row
    /// groups of all of them share one parallel loop (fewer joins per layer, better balanced).
    static func matmulInt8(_ parts: [(matrix: QuantizedMatrix, out: UnsafeMutablePointer<Float>)], _ inp: UnsafePointer<Float>, N: Int) {
        #if DISTILL_AVX2
        let cols = parts[0].matrix.cols, nb = cols / 32
        precondition(parts.allSatisfy { $0.matrix.cols == cols && $0.matrix.activations == .int8 }, "int8 products of one input width")
        // VNNI multiplies unsigned by signed: 8-bit weights are the signed side, so their inputs go in as q + 128.
        let unsignedInputs = parts.contains { $0.matrix.int8Kernel == .avx512vnni && !$0.matrix.fourBit }
        var firstGroup = [0]
        for part in parts { firstGroup.append(firstGroup[firstGroup.count - 1] + groups(part.matrix.rows)) }
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: N * cols * (unsignedInputs ? 2 : 1)) { qxBuffer in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * N * nb) { scaleBuffer in
                let qx = qxBuffer.baseAddress!, dx = scaleBuffer.baseAddress!, sx = dx + N * nb
                for n in 0..<N { quantizeRow(inp + n * cols, blocks: nb, qx + n * cols, dx + n * nb, sx + n * nb) }
                let xu = qx + (unsignedInputs ? N * cols : 0)
                if unsignedInputs {
                    for i in 0..<(N * cols) { xu[i] = qx[i] ^ -128 }
                }
                let x = Int8Inputs(qx: qx, xu: xu, dx: dx, sx: sx, count: N)
                Parallel.forEach(firstGroup[parts.count]) { job in
                    var p = 0
                    while job >= firstGroup[p + 1] { p += 1 }
                    parts[p].matrix.group(job - firstGroup[p], x, parts[p].out)
                }
            }
        }
        #else
        preconditionFailure("int8 activations need an AVX2 build (QuantizedMatrix.int8Available)")
        #endif
    }

    #if DISTILL_AVX2
    /// An input quantised per 32-block: codes, codes + 128 (for VNNI × 8-bit weights), scales and scaled sums.
    struct Int8Inputs {
        var qx: UnsafePointer<Int8>
        var xu: UnsafePointer<Int8>
        var dx: UnsafePointer<Float>
        var sx: UnsafePointer<Float>
        var count: Int
    }

    /// Rows 16g..<16g+16 of out(N, rows).
    private func group(_ g: Int, _ x: Int8Inputs, _ out: UnsafeMutablePointer<Float>) {
        let nb = blocksPerRow, N = x.count, slot = g * nb
        // Inputs in chunks, so that a long prefill's codes stay in cache while a group's blocks pass over them.
        let chunk = Swift.min(N, 32)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk * Self.groupRows) { accBuffer in
            let acc = accBuffer.baseAddress!, lanes = Swift.min(Self.groupRows, rows - g * Self.groupRows)
            var n0 = 0
            while n0 < N {
                let count = Swift.min(chunk, N - n0)
                switch (int8Kernel, fourBit) {
                case (.avx512vnni, true):
                    AVX512Int8.fourBit(codes: codes + slot * 256, scales: scales + slot * 16, mins: mins + slot * 16, blocks: nb,
                                       x: x.qx + n0 * cols, xStride: cols, dx: x.dx + n0 * nb, sx: x.sx + n0 * nb,
                                       inputs: count, acc: acc)
                case (.avx512vnni, false):
                    AVX512Int8.eightBit(codes: codes + slot * 512, scales: scales + slot * 16, sums128: codeSums + slot * 16,
                                        blocks: nb, xu: x.xu + n0 * cols, xStride: cols, dx: x.dx + n0 * nb,
                                        inputs: count, acc: acc)
                case (.avx2, _):
                    groupAVX2(slot, x.qx + n0 * cols, x.dx + n0 * nb, x.sx + n0 * nb, count, acc)
                }
                for t in 0..<count {
                    (out + (n0 + t) * rows + g * Self.groupRows).update(from: acc + t * Self.groupRows, count: lanes)
                }
                n0 += count
            }
        }
    }
    #endif

    #if DISTILL_AVX2
    private typealias I256 = SIMD4<Int64>  // __m256i
    private typealias F256 = SIMD8<Float>  // __m256

    /// quantize_row_q8_1 for one row: per block qx = round(x / dx), dx = amax / 127, sx = dx · Σqx.
    static func quantizeRow(_ x: UnsafePointer<Float>, blocks nb: Int, _ qx: UnsafeMutablePointer<Int8>,
                            _ dx: UnsafeMutablePointer<Float>, _ sx: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(x)
        for b in 0..<nb {
            let v0 = raw.loadUnaligned(fromByteOffset: 128 * b, as: F256.self)
            let v1 = raw.loadUnaligned(fromByteOffset: 128 * b + 32, as: F256.self)
            let v2 = raw.loadUnaligned(fromByteOffset: 128 * b + 64, as: F256.self)
            let v3 = raw.loadUnaligned(fromByteOffset: 128 * b + 96, as: F256.self)
            let amax = _mm256_max_ps(_mm256_max_ps(magnitude(v0), magnitude(v1)), _mm256_max_ps(magnitude(v2), magnitude(v3))).max()
            let d = amax / 127
            let id = F256(repeating: amax != 0 ? 127 / amax : 0)
            // cvtps rounds to nearest even (the default MXCSR mode), as ggml's _mm256_round_ps(_MM_ROUND_NEAREST).
            let q0 = ints(v0 * id), q1 = ints(v1 * id), q2 = ints(v2 * id), q3 = ints(v3 * id)
            dx[b] = d
            sx[b] = d * Float(((q0 &+ q1) &+ (q2 &+ q3)).wrappedSum())
            let out = UnsafeMutableRawPointer(qx + 32 * b)
            out.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: q0), as: SIMD8<Int8>.self)
            out.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: q1), toByteOffset: 8, as: SIMD8<Int8>.self)
            out.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: q2), toByteOffset: 16, as: SIMD8<Int8>.self)
            out.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: q3), toByteOffset: 24, as: SIMD8<Int8>.self)
        }
    }

    @inline(__always) private static func magnitude(_ v: F256) -> F256 {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: F256.self)
    }

    @inline(__always) private static func ints(_ v: F256) -> SIMD8<Int32> {
        unsafeBitCast(_mm256_cvtps_epi32(v), to: SIMD8<Int32>.self)
    }

    @inline(__always) private static func load(_ p: UnsafeRawPointer, _ offset: Int) -> I256 {
        p.loadUnaligned(fromByteOffset: offset, as: I256.self)
    }

    /// The 4 input codes at `offset` in every lane.
    @inline(__always) private static func quad(_ p: UnsafeRawPointer, _ offset: Int) -> I256 {
        _mm256_set1_epi32(p.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    /// The AVX2 kernel for one group of 16 rows (`slot` = its first block) against `count` inputs; acc[16t + j] is
    /// row j against input t. Same layout and the same per-lane float operations as `AVX512Int8`.
    private func groupAVX2(_ slot: Int, _ x: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>, _ sx: UnsafePointer<Float>,
                           _ count: Int, _ acc: UnsafeMutablePointer<Float>) {
        let nb = blocksPerRow, xs = UnsafeRawPointer(x), ones = _mm256_set1_epi16(1)
        let accRaw = UnsafeMutableRawPointer(acc)
        for half in 0..<2 {
            let lanes = 8 &* half
            for t in 0..<count { accRaw.storeBytes(of: F256(), toByteOffset: 4 &* (16 &* t &+ lanes), as: F256.self) }
            for b in 0..<nb {
                let lane0: Int = 16 &* (slot &+ b) &+ lanes
                let d = UnsafeRawPointer(scales + lane0).loadUnaligned(as: F256.self)
                if fourBit {
                    let codeOffset: Int = 256 &* (slot &+ b) &+ 32 &* half
                    let w = UnsafeRawPointer(codes + codeOffset), mask = _mm256_set1_epi8(0x0F)
                    let v0 = Self.load(w, 0), v1 = Self.load(w, 64), v2 = Self.load(w, 128), v3 = Self.load(w, 192)
                    let q0 = _mm256_and_si256(v0, mask), q1 = _mm256_and_si256(v1, mask)
                    let q2 = _mm256_and_si256(v2, mask), q3 = _mm256_and_si256(v3, mask)
                    let q4 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), mask), q5 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), mask)
                    let q6 = _mm256_and_si256(_mm256_srli_epi16(v2, 4), mask), q7 = _mm256_and_si256(_mm256_srli_epi16(v3, 4), mask)
                    let m = UnsafeRawPointer(mins + lane0).loadUnaligned(as: F256.self)
                    for t in 0..<count {
                        let xb = xs + (t &* cols &+ 32 &* b)
                        // 16 products of ≤ 15·127 per i16 lane: at most 30480, so the i16 sums cannot saturate.
                        @inline(__always) func dot(_ q: I256, _ offset: Int) -> I256 { _mm256_maddubs_epi16(q, Self.quad(xb, offset)) }
                        var s = _mm256_add_epi16(dot(q0, 0), dot(q1, 4))
                        s = _mm256_add_epi16(s, _mm256_add_epi16(dot(q2, 8), dot(q3, 12)))
                        s = _mm256_add_epi16(s, _mm256_add_epi16(dot(q4, 16), dot(q5, 20)))
                        s = _mm256_add_epi16(s, _mm256_add_epi16(dot(q6, 24), dot(q7, 28)))
                        let e = t &* nb &+ b, offset = 4 &* (16 &* t &+ lanes)
                        var a = accRaw.loadUnaligned(fromByteOffset: offset, as: F256.self)
                        a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(s, ones)), _mm256_mul_ps(d, _mm256_set1_ps(dx[e])), a)
                        a = _mm256_fmadd_ps(m, _mm256_set1_ps(sx[e]), a)
                        accRaw.storeBytes(of: a, toByteOffset: offset, as: F256.self)
                    }
                } else {
                    let codeOffset: Int = 512 &* (slot &+ b) &+ 32 &* half
                    let w = UnsafeRawPointer(codes + codeOffset)
                    let w0 = Self.load(w, 0), w1 = Self.load(w, 64), w2 = Self.load(w, 128), w3 = Self.load(w, 192)
                    let w4 = Self.load(w, 256), w5 = Self.load(w, 320), w6 = Self.load(w, 384), w7 = Self.load(w, 448)
                    for t in 0..<count {
                        let xb = xs + (t &* cols &+ 32 &* b)
                        // |qw| × (qx with qw's sign): u8 × s8 as maddubs needs, ≤ 2·127·127 per i16 lane.
                        @inline(__always) func dot(_ w: I256, _ offset: Int) -> I256 {
                            _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(Self.quad(xb, offset), w)), ones)
                        }
                        var i = _mm256_add_epi32(dot(w0, 0), dot(w1, 4))
                        i = _mm256_add_epi32(i, _mm256_add_epi32(dot(w2, 8), dot(w3, 12)))
                        i = _mm256_add_epi32(i, _mm256_add_epi32(dot(w4, 16), dot(w5, 20)))
                        i = _mm256_add_epi32(i, _mm256_add_epi32(dot(w6, 24), dot(w7, 28)))
                        let offset = 4 &* (16 &* t &+ lanes)
                        var a = accRaw.loadUnaligned(fromByteOffset: offset, as: F256.self)
                        a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_mul_ps(d, _mm256_set1_ps(dx[t &* nb &+ b])), a)
                        accRaw.storeBytes(of: a, toByteOffset: offset, as: F256.self)
                    }
                }
            }
        }
    }
    #endif
}
