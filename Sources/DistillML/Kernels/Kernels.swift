import Foundation

/// The decoder's kernels, as free functions over pointers and dimensions (llm.c shape), one file per op holding its
/// forward (used by inference and training alike) and its backward twin: Matmul, RMSNorm, RoPE, SwiGLU, Residual,
/// Softmax, CrossEntropy, Embedding, CausalAttention (training's batched attention; inference's is Attention.swift),
/// LoRA. This file holds what they share: SIMD reductions and the elementwise split.
///
/// Shapes use N = rows (tokens of all sequences in a batch, flattened), C = model dim, OC = output channels,
/// H = SwiGLU hidden dim, V = vocabulary. Backward kernels accumulate (`+=`) as in llm.c unless they say otherwise.
/// All matrix products go through BLAS.
enum Kernels {
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

    /// 8 floats from p (unaligned).
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Elementwise kernels' split: `count` values in at most 4 spans per worker of at least 4096 each, body(lo, hi).
    @inline(__always) static func forEachSpan(_ count: Int, _ body: (Int, Int) -> Void) {
        let chunks = max(1, min(count / 4096, Parallel.threads * 4))
        Parallel.forEach(chunks) { c in body(count * c / chunks, count * (c + 1) / chunks) }
    }
}
