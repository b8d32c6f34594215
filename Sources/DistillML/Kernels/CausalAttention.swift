import COpenBLAS

extension Kernels {
    /// Causal, block-diagonal grouped-query attention over a training micro-batch (llm.c `attention_forward`, with
    /// sgemm for the two products and GQA: query head h reads key/value head h / (NH/KVH)).
    ///
    /// q (B,T,NH·HD), k, v (B,T,KVH·HD), segments (B,T) -> out (B,T,NH·HD); att (B,NH,T,T) keeps the softmax for the
    /// backward pass. Position t attends to t' ≤ t with the same segment id; every other entry of att is exactly 0.
    static func causalAttentionForward(_ out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                                       q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                       segments: UnsafePointer<Int32>, B: Int, T: Int, NH: Int, KVH: Int, HD: Int) {
        let qDim = NH * HD, kvDim = KVH * HD, group = NH / KVH
        let scale = 1 / Float(HD).squareRoot()
        Parallel.forEach(B * NH) { job in
            let b = job / NH, h = job % NH, kh = h / group
            let qb = q + b * T * qDim + h * HD, kb = k + b * T * kvDim + kh * HD, vb = v + b * T * kvDim + kh * HD
            let p = att + job * T * T, seg = segments + b * T
            // scores (T,T) = scale · q_h (T,HD) · k_h (T,HD)ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(HD),
                        scale, qb, Int32(qDim), kb, Int32(kvDim), 0, p, Int32(T))
            for t in 0..<T {
                let row = p + t * T
                for j in 0...t where seg[j] != seg[t] { row[j] = -.infinity }
                softmax(row, count: t + 1)
                for j in 0...t where seg[j] != seg[t] { row[j] = 0 }
                if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
            }
            // out_h (T,HD) = att (T,T) · v_h (T,HD)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(HD), Int32(T),
                        1, p, Int32(T), vb, Int32(kvDim), 0, out + b * T * qDim + h * HD, Int32(qDim))
        }
    }

    /// Backward of `causalAttentionForward`, accumulating into dq (B,T,NH·HD), dk, dv (B,T,KVH·HD) from dout (B,T,NH·HD),
    /// att (B,NH,T,T) (the kept or recomputed softmax), q (B,T,NH·HD), k, v (B,T,KVH·HD):
    ///   dP = dout · vᵀ;  dv += Pᵀ · dout;  dS = P ⊙ (dP − Σⱼ P·dP) · scale;  dq += dS · k;  dk += dSᵀ · q.
    /// One worker per (b, key/value head), looping over its query heads in order, so the GQA sums into dk/dv have a
    /// fixed order. `scratch` (B,KVH,T,T) holds each worker's dP.
    static func causalAttentionBackward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                        dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                        dout: UnsafePointer<Float>, att: UnsafePointer<Float>, q: UnsafePointer<Float>,
                                        k: UnsafePointer<Float>, v: UnsafePointer<Float>, B: Int, T: Int, NH: Int, KVH: Int, HD: Int) {
        let qDim = NH * HD, kvDim = KVH * HD, group = NH / KVH
        let scale = 1 / Float(HD).squareRoot()
        Parallel.forEach(B * KVH) { job in
            let b = job / KVH, kh = job % KVH
            let dP = scratch + job * T * T
            let kb = k + b * T * kvDim + kh * HD, vb = v + b * T * kvDim + kh * HD
            let dkb = dk + b * T * kvDim + kh * HD, dvb = dv + b * T * kvDim + kh * HD
            for g in 0..<group {
                let h = kh * group + g
                let p = att + (b * NH + h) * T * T
                let dO = dout + b * T * qDim + h * HD, qb = q + b * T * qDim + h * HD, dqb = dq + b * T * qDim + h * HD
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(T), Int32(HD),
                            1, dO, Int32(qDim), vb, Int32(kvDim), 0, dP, Int32(T))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(T), Int32(HD), Int32(T),
                            1, p, Int32(T), dO, Int32(qDim), 1, dvb, Int32(kvDim))
                for t in 0..<T {
                    let pr = p + t * T, dr = dP + t * T
                    let s = dot(pr, dr, t + 1)
                    for j in 0...t { dr[j] = pr[j] * (dr[j] - s) * scale }
                    if t + 1 < T { (dr + t + 1).update(repeating: 0, count: T - t - 1) }
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(HD), Int32(T),
                            1, dP, Int32(T), kb, Int32(kvDim), 1, dqb, Int32(qDim))
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(T), Int32(HD), Int32(T),
                            1, dP, Int32(T), qb, Int32(qDim), 1, dkb, Int32(kvDim))
            }
        }
    }
}
