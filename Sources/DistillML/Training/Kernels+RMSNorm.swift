extension Kernels {
    /// Backward of `rmsnorm` (forward: out(N,C) = inp · r · w, r = 1/sqrt(mean(inp²) + eps), r kept in rstd(N)):
    ///   dinp(N,C)  += r·(dout ⊙ w) − inp · r³/C · Σ_c(dout ⊙ w ⊙ inp)
    ///   dweight(C) += Σₙ dout ⊙ inp · r        (nil when the norm is frozen)
    /// Rows in parallel for dinp; dweight by column blocks, each summing over n in order (bitwise stable).
    static func rmsnormBackward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, N: Int, C: Int) {
        Parallel.forEach(N) { n in
            let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C
            let r = rstd[n]
            var s: Float = 0
            for i in 0..<C { s += dy[i] * weight[i] * x[i] }
            let k = s * r * r * r / Float(C)
            for i in 0..<C { dx[i] += r * dy[i] * weight[i] - k * x[i] }
        }
        guard let dweight else { return }
        let blocks = max(1, min(Parallel.threads * 2, C / 64))
        Parallel.forEach(blocks) { block in
            let lo = C * block / blocks, hi = C * (block + 1) / blocks
            for n in 0..<N {
                let x = inp + n * C, dy = dout + n * C, r = rstd[n]
                for i in lo..<hi { dweight[i] += dy[i] * x[i] * r }
            }
        }
    }
}
