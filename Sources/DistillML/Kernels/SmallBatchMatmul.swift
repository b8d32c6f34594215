extension Kernels {
    /// Most rows for which `matmul` uses the streaming kernel below instead of sgemm (measured, CPU-ms per token on
    /// SmolLM2-135M: 2 rows 13 vs 27, 8 rows 9.6 vs 9.4–10.4, 16 rows 8.4 vs 6.6).
    static let smallBatchRows = 8

    /// out(N,OC) = inp(N,C) · W(OC,C)ᵀ for a few rows (decode steps): each weight row is read once and applied to all
    /// N inputs. sgemm would first pack (copy) the whole weight matrix, which for N ≪ OC costs more than the product:
    /// decoding is bound by reading the weights, so reading them once is the point. C must be a multiple of 8.
    static func matmulFewRows(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                              N: Int, C: Int, OC: Int) {
        let rowsPerJob = 16
        Parallel.forEach((OC + rowsPerJob - 1) / rowsPerJob) { job in
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: N) { acc in
                for o in (job * rowsPerJob)..<min(OC, (job + 1) * rowsPerJob) {
                    let w = UnsafeRawPointer(weight + o * C)
                    acc.initialize(repeating: SIMD8<Float>())
                    var c = 0
                    while c + 32 <= C {
                        let w0 = w.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                        let w1 = w.loadUnaligned(fromByteOffset: 4 * c + 32, as: SIMD8<Float>.self)
                        let w2 = w.loadUnaligned(fromByteOffset: 4 * c + 64, as: SIMD8<Float>.self)
                        let w3 = w.loadUnaligned(fromByteOffset: 4 * c + 96, as: SIMD8<Float>.self)
                        for n in 0..<N {
                            let x = UnsafeRawPointer(inp + n * C + c)
                            var a = w0 * x.loadUnaligned(as: SIMD8<Float>.self)
                            a.addProduct(w1, x.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                            a.addProduct(w2, x.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                            a.addProduct(w3, x.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                            acc[n] += a
                        }
                        c += 32
                    }
                    while c < C {
                        let w0 = w.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                        for n in 0..<N {
                            acc[n].addProduct(w0, UnsafeRawPointer(inp + n * C + c).loadUnaligned(as: SIMD8<Float>.self))
                        }
                        c += 8
                    }
                    for n in 0..<N { out[n * OC + o] = acc[n].sum() }
                }
            }
        }
    }
}
