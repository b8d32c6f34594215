extension Kernels {
    /// Backward of `rope` (in place, x (N, heads·hd) with row stride `rowStride`): the rotation is orthogonal, so the
    /// gradient of the input is the gradient of the output rotated by −angle, pairs (i, i+d/2) as HF `rotate_half`.
    static func ropeBackward(_ dx: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, N: Int, heads: Int,
                             headDim: Int, rowStride: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        Parallel.forEach(N) { n in
            let c = cos + Int(positions[n]) * half, s = sin + Int(positions[n]) * half
            for h in 0..<heads {
                let v = dx + n * rowStride + h * headDim
                for i in 0..<half {
                    let d0 = v[i], d1 = v[i + half]
                    v[i] = d0 * c[i] + d1 * s[i]
                    v[i + half] = d1 * c[i] - d0 * s[i]
                }
            }
        }
    }
}
