extension Kernels {
    /// RMSNorm forward (HF LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · w, in float32), used by inference and training:
    ///   inp (N,C), weight (C) -> out (N,C); rstd (N) = 1/sqrt(mean(inp²) + eps) kept for `rmsnormBackward`.
    static func rmsnorm(_ out: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                        _ weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float) {
        Parallel.forEach(N) { n in
            let x = inp + n * C, y = out + n * C
            let r = 1 / (sumOfSquares(x, C) / Float(C) + eps).squareRoot()
            rstd[n] = r
            for i in 0..<C { y[i] = x[i] * r * weight[i] }
        }
    }

    /// Backward of `rmsnorm`, accumulating (r = rstd[n]):
    ///   dinp (N,C)   += r·(dout ⊙ w) − inp · r³/C · Σ_c(dout ⊙ w ⊙ inp)
    ///   dweight (C)  += Σₙ dout ⊙ inp · r        (nil when the norm is frozen)
    /// from dout (N,C), inp (N,C), weight (C), rstd (N). Rows in parallel for dinp; dweight by column blocks, each
    /// summing over n in order (bitwise stable).
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
