extension Kernels {
    /// Token embedding forward: tokens (N), wte (V,C) -> out (N,C), out[n] = wte[tokens[n]].
    static func embeddingForward(_ out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                                 wte: UnsafePointer<Float>, N: Int, C: Int) {
        for n in 0..<N { (out + n * C).update(from: wte + Int(tokens[n]) * C, count: C) }
    }

    /// Backward of `embeddingForward`: dwte (V,C), row tokens[n] += dout[n] for dout (N,C), tokens (N). Serial over n: two rows may share a token, and a fixed order of
    /// additions keeps the result bitwise stable.
    static func embeddingBackward(_ dwte: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                  tokens: UnsafePointer<Int32>, N: Int, C: Int) {
        for n in 0..<N { axpy(dwte + Int(tokens[n]) * C, 1, dout + n * C, C) }
    }
}
