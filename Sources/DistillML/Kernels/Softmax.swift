import Foundation

extension Kernels {
    /// Softmax forward of one row, in place: x (count) -> e^(x − max) / Σ e^(x − max), numerically stable, vectorised
    /// 8 lanes at a time then a scalar tail. Used by inference and training attention; its backward
    /// (dS = P ⊙ (dP − Σⱼ P·dP)) is fused into `causalAttentionBackward`, and log-softmax's into `crossEntropy`.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let m = rowMax(x, count)
        let sum = expSum(x, count, minus: m, store: true)
        let inv = 1 / sum
        for j in 0..<count { x[j] *= inv }
    }

    /// max over x (count): 8 lanes, then the tail.
    @inline(__always) static func rowMax(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        let r = UnsafeRawPointer(x)
        var m8 = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            m8 = lanewiseMax(m8, r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            i += 8
        }
        var m = m8.max()
        while i < count { m = max(m, x[i]); i += 1 }
        return m
    }

    /// Σ e^(x − shift) over x (count), 8 lanes then the tail; `store` writes each e^(x − shift) over x.
    @inline(__always) static func expSum(_ x: UnsafeMutablePointer<Float>, _ count: Int, minus shift: Float, store: Bool) -> Float {
        let r = UnsafeMutableRawPointer(x)
        var s8 = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let e = exp(r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - shift)
            if store { r.storeBytes(of: e, toByteOffset: 4 * i, as: SIMD8<Float>.self) }
            s8 += e
            i += 8
        }
        var sum = s8.sum()
        while i < count {
            let e = expf(x[i] - shift)
            if store { x[i] = e }
            sum += e
            i += 1
        }
        return sum
    }
}
