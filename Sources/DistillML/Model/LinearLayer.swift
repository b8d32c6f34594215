import COpenBLAS
import Foundation

/// One projection of the decoder, out(N,OC) = inp(N,C)·Wᵀ (+ bias) (+ scale·B·(A·inp)), whatever form W is held in:
/// fp32 (BLAS), 4/8-bit blocks (the quantised kernels), or both, with an optional LoRA pair kept apart from W.
///
/// Which kernel runs is decided per pass by the caller (`quantized`): the 4/8-bit kernels win for few rows, sgemm for
/// many. A layer without an fp32 copy runs many rows through sgemm over its blocks decoded a slice at a time.
struct LinearLayer {
    /// W (OC, C) in fp32, when kept.
    var fp32: UnsafePointer<Float>?
    /// W in 4/8-bit blocks, when kept.
    var blocks: QuantizedMatrix?
    /// bias (OC), when the model has one (qwen2 q/k/v).
    var bias: UnsafePointer<Float>?
    /// A (r, C) and B (OC, r) of an unmerged LoRA adapter, and its alpha/r.
    var lora: LoRAWeights.Pair?
    var loraScale: Float = 0
    let inDim: Int
    let outDim: Int

    /// out(N,OC) = inp(N,C)·Wᵀ (+ bias) (+ loraScale·(inp·Aᵀ)·Bᵀ). `quantized`: run the 4/8-bit kernels if W has blocks.
    func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, N: Int, quantized: Bool) {
        if let blocks, quantized || fp32 == nil {
            if !quantized {
                blocks.matmulDequantized(out, inp, N: N)
            } else if blocks.activations == .int8 {
                QuantizedMatrix.matmulInt8([(blocks, out)], inp, N: N)
            } else {
                blocks.matmul(out, inp, N: N)
            }
            if let bias {
                for n in 0..<N {
                    for o in 0..<outDim { out[n * outDim + o] += bias[o] }
                }
            }
        } else if let fp32 {
            Kernels.matmul(out, inp, fp32, bias, N: N, C: inDim, OC: outDim)
        }
        if let lora { Self.addLoRA(out, inp, lora, scale: loraScale, N: N, C: inDim, OC: outDim) }
    }

    /// Several projections of one input (q/k/v, gate/up), each as `forward` computes it. With int8 activations the
    /// 4/8-bit products are one kernel call: the input is quantised once and all the matrices' row groups share one
    /// parallel loop (the same bits as separate calls, fewer joins per layer).
    static func forward(_ projections: [(layer: LinearLayer, out: UnsafeMutablePointer<Float>)], _ inp: UnsafePointer<Float>,
                        N: Int, quantized: Bool) {
        let blocks = projections.compactMap { $0.layer.blocks }
        guard quantized, blocks.count == projections.count, blocks.allSatisfy({ $0.activations == .int8 }) else {
            for p in projections { p.layer.forward(p.out, inp, N: N, quantized: quantized) }
            return
        }
        QuantizedMatrix.matmulInt8(zip(blocks, projections).map { ($0, $1.out) }, inp, N: N)
        for (layer, out) in projections {
            if let bias = layer.bias {
                for n in 0..<N {
                    for o in 0..<layer.outDim { out[n * layer.outDim + o] += bias[o] }
                }
            }
            if let lora = layer.lora {
                addLoRA(out, inp, lora, scale: layer.loraScale, N: N, C: layer.inDim, OC: layer.outDim)
            }
        }
    }

    /// out(N,OC) += scale · (inp(N,C) · A(r,C)ᵀ)(N,r) · B(OC,r)ᵀ.
    static func addLoRA(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ pair: LoRAWeights.Pair,
                        scale: Float, N: Int, C: Int, OC: Int) {
        let r = pair.rank
        withUnsafeTemporaryAllocation(of: Float.self, capacity: N * r) { buffer in
            let t = buffer.baseAddress!  // (N, r)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(r), Int32(C),
                        1, inp, Int32(C), pair.a, Int32(C), 0, t, Int32(r))
            // Output channels split over the workers, as Kernels.matmul splits them.
            let parts = min(Parallel.threads, max(1, OC / 64))
            Parallel.forEach(parts) { part in
                let lo = OC * part / parts, hi = OC * (part + 1) / parts
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(hi - lo), Int32(r),
                            scale, t, Int32(r), pair.b + lo * r, Int32(r), 1, out + lo, Int32(OC))
            }
        }
    }
}
