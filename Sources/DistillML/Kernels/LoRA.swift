import COpenBLAS

extension Kernels {
    /// LoRA's low-rank path beside a frozen linear (PEFT `lora.Linear`: y = W₀x + scale · B(A(dropout(x)))):
    ///   h (N,r) = u (N,in) · A (r,in)ᵀ;   out (N,OC) += scale · h · B (OC,r)ᵀ
    /// where u (N,in) is the (dropped-out) input, A (r,in), B (OC,r); out (N,OC) already holds the frozen layer's
    /// output. h (N,r) is kept for the backward pass.
    /// `out` nil computes h alone (a layer recomputed for its backward pass: the same h, bit for bit).
    static func loraForward(_ out: UnsafeMutablePointer<Float>?, h: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>,
                            a: UnsafePointer<Float>, b: UnsafePointer<Float>, scale: Float, N: Int, C: Int, OC: Int, r: Int) {
        let parts = trainingParts(N)
        Parallel.forEach(parts) { part in
            let lo = N * part / parts, hi = N * (part + 1) / parts
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(hi - lo), Int32(r), Int32(C),
                        1, u + lo * C, Int32(C), a, Int32(C), 0, h + lo * r, Int32(r))
            guard let out else { return }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(hi - lo), Int32(OC), Int32(r),
                        scale, h + lo * r, Int32(r), b, Int32(r), 1, out + lo * OC, Int32(OC))
        }
    }

    /// Backward of `loraForward`, given dout (N,OC), h (N,r), u (N,in), A (r,in), B (OC,r); dh (N,r) is scratch:
    ///   dB (OC,r) += scale · doutᵀ · h;   dh (N,r) = scale · dout · B;   dA (r,in) += dhᵀ · u;   du (N,in) = dh · A
    /// `du` (N,in) is written (beta 0) into `dinpScratch` (N,in) when dropout masks the input (the caller multiplies
    /// by the mask and adds), or added straight into `dinp` (N,in) when there is no dropout.
    static func loraBackward(dinp: UnsafeMutablePointer<Float>, dropout: Bool, dinpScratch: UnsafeMutablePointer<Float>,
                             da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>,
                             dout: UnsafePointer<Float>, h: UnsafePointer<Float>, u: UnsafePointer<Float>,
                             a: UnsafePointer<Float>, b: UnsafePointer<Float>, scale: Float, N: Int, C: Int, OC: Int, r: Int) {
        let rowParts = trainingParts(N)
        Parallel.forEach(rowParts) { part in
            let lo = N * part / rowParts, hi = N * (part + 1) / rowParts
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hi - lo), Int32(r), Int32(OC),
                        scale, dout + lo * OC, Int32(OC), b, Int32(r), 0, dh + lo * r, Int32(r))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hi - lo), Int32(C), Int32(r),
                        1, dh + lo * r, Int32(r), a, Int32(C), dropout ? 0 : 1,
                        (dropout ? dinpScratch : dinp) + lo * C, Int32(C))
        }
        let outParts = trainingParts(OC)
        Parallel.forEach(outParts) { part in
            let lo = OC * part / outParts, hi = OC * (part + 1) / outParts
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(hi - lo), Int32(r), Int32(N),
                        scale, dout + lo, Int32(OC), h, Int32(r), 1, db + lo * r, Int32(r))
        }
        let colParts = max(1, min(Parallel.threads * 2, C / 64))
        Parallel.forEach(colParts) { part in
            let lo = C * part / colParts, hi = C * (part + 1) / colParts
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(r), Int32(hi - lo), Int32(N),
                        1, dh, Int32(r), u + lo, Int32(C), 1, da + lo, Int32(C))
        }
    }
}
