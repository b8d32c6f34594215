extension Kernels {
    /// Rotary embedding forward, in place, HF `rotate_half` pairing (x[i], x[i+d/2]) for every head of every row:
    ///   x (N, rowStride) holding `heads` heads of headDim; positions (N); cos, sin (positions, headDim/2).
    static func rope(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, N: Int, heads: Int, headDim: Int,
                     rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        rotate(x, positions: positions, N: N, heads: heads, headDim: headDim, rowStride: rowStride, cos: cos, sin: sin, sign: 1)
    }

    /// Backward of `rope`, in place on dx (N, rowStride): the rotation is orthogonal, so the input's gradient is the
    /// output's rotated by −angle (sin negated; x·(−s) is exactly −(x·s), so these are the bits of the written-out form).
    static func ropeBackward(_ dx: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, N: Int, heads: Int,
                             headDim: Int, rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        rotate(dx, positions: positions, N: N, heads: heads, headDim: headDim, rowStride: rowStride, cos: cos, sin: sin, sign: -1)
    }

    /// x (N, rowStride) rotated in place by sign · angle(position, i), pairs (i, i+d/2).
    private static func rotate(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, N: Int, heads: Int,
                               headDim: Int, rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, sign: Float) {
        let half = headDim / 2
        Parallel.forEach(N) { n in
            let c = cos + Int(positions[n]) * half, s = sin + Int(positions[n]) * half
            for h in 0..<heads {
                let v = x + n * rowStride + h * headDim
                for i in 0..<half {
                    let x0 = v[i], x1 = v[i + half], si = s[i] * sign
                    v[i] = x0 * c[i] - x1 * si
                    v[i + half] = x1 * c[i] + x0 * si
                }
            }
        }
    }
}
