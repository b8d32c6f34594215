import COpenBLAS

extension Kernels {
    /// Linear forward, used by inference and training: inp (N,C), weight (OC,C), bias (OC)? -> out (N,OC) = inp · Wᵀ + bias.
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
        // Every slice packs the whole input again, so a many-row product (training, prefill) takes one slice per
        // worker; a few rows (decode) take more, smaller slices, which balance better and pack little.
        let parts = N >= 64 ? min(Parallel.threads, max(1, OC / 64)) : min(Parallel.threads * Parallel.chunksPerWorker, max(1, OC / 64))
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

    /// How many row blocks a training product is split into: one per worker, since each block packs the other
    /// operand whole again (four blocks on two cores spent 14% of a full fine-tuning step packing), and never blocks
    /// under 32 rows (an sgemm that small packs more than it computes).
    static func trainingParts(_ rows: Int) -> Int { max(1, min(Parallel.threads, rows / 32)) }

    /// Backward of `matmul` (forward: out(N,OC) = inp(N,C) · W(OC,C)ᵀ + bias(OC)), accumulating as llm.c:
    ///   dinp(N,C)   += dout(N,OC) · W(OC,C)
    ///   dweight(OC,C) += dout(N,OC)ᵀ · inp(N,C)
    ///   dbias(OC)   += Σₙ dout(n,·)
    /// Any gradient may be nil (a frozen weight, an input that needs none). Every product is an sgemm with beta = 1,
    /// split over output rows only, so each element's sum runs in one fixed order: the result is bitwise stable.
    static func matmulBackward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                               dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int) {
        if let dinp {
            let parts = trainingParts(N)
            Parallel.forEach(parts) { part in
                let lo = N * part / parts, hi = N * (part + 1) / parts
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hi - lo), Int32(C), Int32(OC),
                            1, dout + lo * OC, Int32(OC), weight, Int32(C), 1, dinp + lo * C, Int32(C))
            }
        }
        guard dweight != nil || dbias != nil else { return }
        let parts = trainingParts(OC)
        Parallel.forEach(parts) { part in
            let lo = OC * part / parts, hi = OC * (part + 1) / parts
            if let dweight {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(hi - lo), Int32(C), Int32(N),
                            1, dout + lo, Int32(OC), inp, Int32(C), 1, dweight + lo * C, Int32(C))
            }
            if let dbias {
                for n in 0..<N {
                    let row = dout + n * OC
                    for o in lo..<hi { dbias[o] += row[o] }
                }
            }
        }
    }
}
