#if DISTILL_AVX2
import _Builtin_intrinsics.intel
#endif

/// The int8-activation kernels (`Activations.int8`): llama.cpp's arithmetic for Q4_0/Q4_1/Q8_0 weights.
///
/// Each input row is quantised per 32-block to int8 codes qx with scale dx = amax/127 (`quantize_row_q8_1`), and
/// sx = dx·Σqx. A block's contribution is then dw·dx·Σ(qw·qx) (+ mw·sx for 4-bit, whose codes are unsigned with
/// a min), the integer sum taken with AVX2 `maddubs` (u8×s8 → pairs of i16) and `madd` (→ i32). 8-bit weights are
/// signed, so the kernel multiplies |qw| by qx carrying qw's sign, as ggml does.
///
/// The error is ggml's: inputs rounded to 8 bits (reported by the parity tests). Built only with AVX2
/// (`DISTILL_AVX2`, set by Package.swift for x86-64 unless DISTILL_PORTABLE=1); elsewhere models use the
/// fp32-activation kernels.
///
/// Every (row, input) pair is summed in one order, block by block into one accumulator, whichever tile computes
/// it: a sequence's logits do not depend on which other sequences share its batch.
extension QuantizedMatrix {
    static var int8Available: Bool {
        #if DISTILL_AVX2
        return true
        #else
        return false
        #endif
    }

    /// out(N, rows) = inp(N, cols) · Wᵀ with int8 activations.
    func matmulInt8(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, N: Int) {
        #if DISTILL_AVX2
        let nb = blocksPerRow
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: N * cols) { qxBuffer in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * N * nb) { scaleBuffer in
                let qx = qxBuffer.baseAddress!, dx = scaleBuffer.baseAddress!, sx = dx + N * nb
                for n in 0..<N { Self.quantizeRow(inp + n * cols, blocks: nb, qx + n * cols, dx + n * nb, sx + n * nb) }
                let rowsPerJob = 16
                Parallel.forEach((rows + rowsPerJob - 1) / rowsPerJob) { job in
                    let lo = job * rowsPerJob, hi = min(rows, lo + rowsPerJob)
                    var r = lo
                    // Decode (N = 1) goes row by row: one weight stream, measured faster than 4-row tiles here.
                    if N > 1 {
                        // 2 rows × 2 inputs: each decoded weight vector and each input load serves twice.
                        while r + 2 <= hi {
                            var n = 0
                            while n + 2 <= N {
                                let d = dot2x2(r, n, qx, dx, sx)
                                out[n * rows + r] = d[0]; out[n * rows + r + 1] = d[1]
                                out[(n + 1) * rows + r] = d[2]; out[(n + 1) * rows + r + 1] = d[3]
                                n += 2
                            }
                            if n < N {
                                out[n * rows + r] = dot1(r, n, qx, dx, sx)
                                out[n * rows + r + 1] = dot1(r + 1, n, qx, dx, sx)
                            }
                            r += 2
                        }
                    }
                    for row in r..<hi {
                        for n in 0..<N { out[n * rows + row] = dot1(row, n, qx, dx, sx) }
                    }
                }
            }
        }
        #else
        preconditionFailure("int8 activations need an AVX2 build (QuantizedMatrix.int8Available)")
        #endif
    }

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

    /// Σ over the 32 lanes of u8 codes × s8 inputs, as 8 i32 partial sums.
    @inline(__always) private static func dotU8S8(_ w: I256, _ x: I256) -> I256 {
        _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1))
    }

    /// acc += float(ints) · scale.
    @inline(__always) private static func accumulate(_ acc: inout F256, _ ints: I256, _ scale: Float) {
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ints), _mm256_set1_ps(scale), acc)
    }

    /// acc += a 4-bit block pair (codes `lo`, `hi`) against the input codes of pair `p` at `x`, with the pair's two
    /// scale products.
    @inline(__always) private static func q4Step(_ acc: inout F256, _ lo: I256, _ hi: I256, _ x: UnsafeRawPointer, _ p: Int,
                                                 _ sa: Float, _ sb: Float) {
        accumulate(&acc, dotU8S8(lo, load(x, 64 &* p)), sa)
        accumulate(&acc, dotU8S8(hi, load(x, 64 &* p &+ 32)), sb)
    }

    /// acc += one 8-bit block (`u` = |codes|, `c` = the codes, for their signs) against the input codes of block `b`.
    @inline(__always) private static func q8Step(_ acc: inout F256, _ u: I256, _ c: I256, _ x: UnsafeRawPointer, _ b: Int, _ s: Float) {
        accumulate(&acc, dotU8S8(u, _mm256_sign_epi8(load(x, 32 &* b), c)), s)
    }

    /// The two blocks of pair `p` of a 4-bit row: low nibbles (even block) and high nibbles (odd block).
    @inline(__always) private static func nibbles(_ w: UnsafeRawPointer, _ p: Int) -> (I256, I256) {
        let c = load(w, 32 &* p), mask = _mm256_set1_epi8(0x0F)
        return (_mm256_and_si256(c, mask), _mm256_and_si256(_mm256_srli_epi16(c, 4), mask))
    }

    @inline(__always) private func rowCodes(_ r: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(codes + r &* blocksPerRow &* codeBytesPerBlock)
    }

    /// The 4-bit blocks' min term: Σ_b m_b · sx_b.
    @inline(__always) private func minTerm(_ r: Int, _ n: Int, _ sx: UnsafePointer<Float>) -> Float {
        fourBit ? Kernels.dot(mins + r &* blocksPerRow, sx + n &* blocksPerRow, blocksPerRow) : 0
    }

    /// One weight row against one input row.
    private func dot1(_ r: Int, _ n: Int, _ qx: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>, _ sx: UnsafePointer<Float>) -> Float {
        let nb = blocksPerRow, w = rowCodes(r), x = UnsafeRawPointer(qx + n &* cols)
        let d = scales + r &* nb, e = dx + n &* nb
        var a = F256()
        if fourBit {
            for p in 0..<(nb / 2) {
                let (lo, hi) = Self.nibbles(w, p)
                Self.q4Step(&a, lo, hi, x, p, d[2 &* p] * e[2 &* p], d[2 &* p &+ 1] * e[2 &* p &+ 1])
            }
        } else {
            for b in 0..<nb {
                let c = Self.load(w, 32 &* b)
                Self.q8Step(&a, _mm256_sign_epi8(c, c), c, x, b, d[b] * e[b])
            }
        }
        return a.sum() + minTerm(r, n, sx)
    }

    /// Rows r, r+1 against inputs n, n+1: [r·n, (r+1)·n, r·(n+1), (r+1)·(n+1)].
    private func dot2x2(_ r: Int, _ n: Int, _ qx: UnsafePointer<Int8>, _ dx: UnsafePointer<Float>, _ sx: UnsafePointer<Float>) -> SIMD4<Float> {
        let nb = blocksPerRow
        let w0 = rowCodes(r), w1 = w0 + nb &* codeBytesPerBlock
        let x0 = UnsafeRawPointer(qx + n &* cols), x1 = x0 + cols
        let d0 = scales + r &* nb, d1 = d0 + nb, e0 = dx + n &* nb, e1 = e0 + nb
        var a00 = F256(), a10 = F256(), a01 = F256(), a11 = F256()
        if fourBit {
            for p in 0..<(nb / 2) {
                let i = 2 &* p, j = i &+ 1
                let (l0, h0) = Self.nibbles(w0, p), (l1, h1) = Self.nibbles(w1, p)
                Self.q4Step(&a00, l0, h0, x0, p, d0[i] * e0[i], d0[j] * e0[j])
                Self.q4Step(&a10, l1, h1, x0, p, d1[i] * e0[i], d1[j] * e0[j])
                Self.q4Step(&a01, l0, h0, x1, p, d0[i] * e1[i], d0[j] * e1[j])
                Self.q4Step(&a11, l1, h1, x1, p, d1[i] * e1[i], d1[j] * e1[j])
            }
        } else {
            for b in 0..<nb {
                let c0 = Self.load(w0, 32 &* b), c1 = Self.load(w1, 32 &* b)
                let u0 = _mm256_sign_epi8(c0, c0), u1 = _mm256_sign_epi8(c1, c1)
                Self.q8Step(&a00, u0, c0, x0, b, d0[b] * e0[b])
                Self.q8Step(&a10, u1, c1, x0, b, d1[b] * e0[b])
                Self.q8Step(&a01, u0, c0, x1, b, d0[b] * e1[b])
                Self.q8Step(&a11, u1, c1, x1, b, d1[b] * e1[b])
            }
        }
        let s00 = a00.sum() + minTerm(r, n, sx), s10 = a10.sum() + minTerm(r &+ 1, n, sx)
        let s01 = a01.sum() + minTerm(r, n &+ 1, sx), s11 = a11.sum() + minTerm(r &+ 1, n &+ 1, sx)
        return SIMD4(s00, s10, s01, s11)
    }
    #endif
}
