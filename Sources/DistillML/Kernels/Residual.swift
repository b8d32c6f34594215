extension Kernels {
    /// Residual connection forward, used by inference and training: x (N,C) += y (N,C), `count` = N·C.
    /// Backward: the output's gradient flows to both inputs unchanged (the training loop keeps one d(residual)).
    static func residualAdd(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(x + i).storeBytes(of: load8(x + i) + load8(y + i), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { x[i] += y[i]; i += 1 }
    }
}
