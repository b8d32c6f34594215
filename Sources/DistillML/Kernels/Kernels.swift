import COpenBLAS
import Foundation

/// Forward kernels of the decoder, as free functions over pointers and dimensions (llm.c shape).
///
/// Shapes use N = rows (tokens of all sequences in a batch, flattened), C = model dim, OC = output channels,
/// H = SwiGLU hidden dim. Each forward kernel names the backward twin the fine-tuner will add beside it; backward
/// kernels will accumulate (`+=`) as in llm.c. All matrix products go through BLAS.
enum Kernels {
    /// out(N,OC) = inp(N,C) · W(OC,C)ᵀ (+ bias(OC)).  Backward twin: matmulBackward(dinp, dW, dbias, dout, inp, W)
    /// as two sgemms with beta = 1 (dinp += dout·W, dW += doutᵀ·inp).
    static func matmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                       _ bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int) {
        if N > 1 && N <= smallBatchRows && C % 8 == 0 {
            matmulFewRows(out, inp, weight, N: N, C: C, OC: OC)
            if let bias {
                for n in 0..<N { for o in 0..<OC { out[n * OC + o] += bias[o] } }
            }
            return
        }
        // Output channels are split over our own workers, each calling single-threaded BLAS on its slice: OpenBLAS's
        // own threads spin between calls and fight the kernels' threads on a small machine (see Parallel.configureBLAS).
        let parts = min(Parallel.threads * Parallel.chunksPerWorker, max(1, OC / 64))
        Parallel.forEach(parts) { part in
            let lo = OC * part / parts, hi = OC * (part + 1) / parts
            if N == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(hi - lo), Int32(C), 1, weight + lo * C, Int32(C), inp, 1, 0, out + lo, 1)
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(hi - lo), Int32(C),
                            1, inp, Int32(C), weight + lo * C, Int32(C), 0, out + lo, Int32(OC))
            }
            if let bias {
                for n in 0..<N {
                    let row = out + n * OC
                    for o in lo..<hi { row[o] += bias[o] }
                }
            }
        }
    }

    /// out(N,C) = inp(N,C) / rms(inp) · weight(C); rstd(N) kept for the backward twin rmsnormBackward.
    /// HF LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · w, in float32.
    static func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                        _ weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float) {
        Parallel.forEach(N) { n in
            let x = inp + n * C, y = out + n * C
            let r = 1 / (sumOfSquares(x, C) / Float(C) + eps).squareRoot()
            rstd[n] = r
            for i in 0..<C { y[i] = x[i] * r * weight[i] }
        }
    }

    /// In-place rotary embedding, HF `rotate_half` pairing (x[i], x[i+d/2]) for every head of every row.
    /// `cos`/`sin` tables are (positions, d/2).  Backward twin: the same rotation by −angle.
    static func rope(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, N: Int, heads: Int, headDim: Int,
                     rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        Parallel.forEach(N) { n in
            let c = cos + Int(positions[n]) * half, s = sin + Int(positions[n]) * half
            for h in 0..<heads {
                let v = x + n * rowStride + h * headDim
                for i in 0..<half {
                    let x0 = v[i], x1 = v[i + half]
                    v[i] = x0 * c[i] - x1 * s[i]
                    v[i + half] = x1 * c[i] + x0 * s[i]
                }
            }
        }
    }

    /// out(N,H) = silu(gate) · up, silu(x) = x·σ(x).  Backward twin: swigluBackward(dgate, dup, dout, gate, up).
    static func swiglu(_ out: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        let chunks = max(1, min(count / 4096, Parallel.threads * 4))
        Parallel.forEach(chunks) { c in
            var i = count * c / chunks
            let hi = count * (c + 1) / chunks
            while i + 8 <= hi {
                let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: g / (1 + exp(-g)) * u, as: SIMD8<Float>.self)
                i += 8
            }
            while i < hi {
                let g = gate[i]
                out[i] = g / (1 + expf(-g)) * up[i]
                i += 1
            }
        }
    }

    /// x(N,C) += y(N,C): the residual connection. Backward twin: the gradient flows to both inputs unchanged.
    static func residualAdd(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: a + b, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { x[i] += y[i]; i += 1 }
    }

    /// In-place numerically stable softmax of one row; returns nothing, the row sums to 1. Vectorised (max, e^x with
    /// `exp(SIMD8)`, sum, scale), 8 lanes at a time, then a scalar tail.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let r = UnsafeMutableRawPointer(x)
        var m8 = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            m8 = lanewiseMax(m8, r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            i += 8
        }
        var m = m8.max()
        while i < count { m = max(m, x[i]); i += 1 }
        var s8 = SIMD8<Float>()
        i = 0
        while i + 8 <= count {
            let e = exp(r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m)
            r.storeBytes(of: e, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            s8 += e
            i += 8
        }
        var sum = s8.sum()
        while i < count {
            let e = expf(x[i] - m)
            x[i] = e
            sum += e
            i += 1
        }
        let inv = 1 / sum
        for j in 0..<count { x[j] *= inv }
    }

    // MARK: - SIMD reductions (Swift will not reassociate a scalar float loop, so these keep 4 accumulators)

    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= n {
            s0.addProduct(ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            s1.addProduct(ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self))
            s2.addProduct(ra.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self))
            s3.addProduct(ra.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self))
            i += 32
        }
        while i + 8 <= n {
            s0.addProduct(ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            i += 8
        }
        var s = ((s0 + s1) + (s2 + s3)).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inline(__always) static func sumOfSquares(_ a: UnsafePointer<Float>, _ n: Int) -> Float { dot(a, a, n) }

    /// y(n) += alpha · x(n).
    @inline(__always) static func axpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ n: Int) {
        let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
        let a = SIMD8<Float>(repeating: alpha)
        var i = 0
        while i + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self).addingProduct(a, rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            ry.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }
}
