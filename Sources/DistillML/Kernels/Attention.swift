#if DISTILL_AVX2
import _Builtin_intrinsics.intel
#endif
import Foundation

extension Kernels {
    /// Causal multi-head attention with grouped key/value heads, reading keys and values from a KV cache.
    ///
    /// q (N, heads·hd) -> out (N, heads·hd). Row n belongs to cache slot `slots[n]` at position `positions[n]` and
    /// attends to that slot's cache positions 0...positions[n] (its own key/value already written).
    /// `kCache`/`vCache` for this layer are (slots, capacity, kvHeads·hd). `scores` is scratch of (N·heads, capacity).
    /// Backward twin (training, no cache): attentionBackward over the saved softmax, as llm.c.
    static func attention(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
                          kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
                          slots: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, scores: UnsafeMutablePointer<Float>,
                          N: Int, heads: Int, kvHeads: Int, headDim hd: Int, capacity: Int) {
        let qDim = heads * hd, kvDim = kvHeads * hd
        let group = heads / kvHeads
        let scale = 1 / Float(hd).squareRoot()
        Parallel.forEach(N * heads) { job in
            let n = job / heads, h = job % heads
            let length = Int(positions[n]) + 1
            let keys = kCache + Int(slots[n]) * capacity * kvDim + (h / group) * hd
            let values = vCache + Int(slots[n]) * capacity * kvDim + (h / group) * hd
            let qh = q + n * qDim + h * hd, o = out + n * qDim + h * hd
            let att = scores + job * capacity
            if hd == 64 {
                attendHead64(o, qh, keys: keys, values: values, stride: kvDim, length: length, scale: scale, att: att)
                return
            }
            for t in 0..<length { att[t] = dot(qh, keys + t * kvDim, hd) * scale }
            softmax(att, count: length)
            o.update(repeating: 0, count: hd)
            for t in 0..<length { axpy(o, att[t], values + t * kvDim, hd) }
        }
    }

    /// One head of width 64 (SmolLM2, Qwen2.5-0.5B, Llama 3.2 1B, TinyLlama): the query and the output accumulators
    /// stay in registers across all positions, where the generic loop reloads and re-stores them per position.
    @inline(__always) private static func attendHead64(_ o: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
                                                       keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                                                       length: Int, scale: Float, att: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        let rq = UnsafeRawPointer(q)
        let q0 = rq.loadUnaligned(as: V.self), q1 = rq.loadUnaligned(fromByteOffset: 32, as: V.self)
        let q2 = rq.loadUnaligned(fromByteOffset: 64, as: V.self), q3 = rq.loadUnaligned(fromByteOffset: 96, as: V.self)
        let q4 = rq.loadUnaligned(fromByteOffset: 128, as: V.self), q5 = rq.loadUnaligned(fromByteOffset: 160, as: V.self)
        let q6 = rq.loadUnaligned(fromByteOffset: 192, as: V.self), q7 = rq.loadUnaligned(fromByteOffset: 224, as: V.self)
        var t = 0
        #if DISTILL_AVX2
        // Four positions at a time, their four dot products reduced together (three hadds and one add instead of four
        // horizontal sums). The compiler's own code for the one-position loop below spilled q and ran 2 lanes wide.
        while t &+ 4 <= length {
            let k0 = UnsafeRawPointer(keys + t &* stride), k1 = UnsafeRawPointer(keys + (t &+ 1) &* stride)
            let k2 = UnsafeRawPointer(keys + (t &+ 2) &* stride), k3 = UnsafeRawPointer(keys + (t &+ 3) &* stride)
            var a0 = q0 * k0.loadUnaligned(as: V.self), a1 = q0 * k1.loadUnaligned(as: V.self)
            var a2 = q0 * k2.loadUnaligned(as: V.self), a3 = q0 * k3.loadUnaligned(as: V.self)
            @inline(__always) func step(_ q: V, _ offset: Int) {
                a0 = _mm256_fmadd_ps(q, k0.loadUnaligned(fromByteOffset: offset, as: V.self), a0)
                a1 = _mm256_fmadd_ps(q, k1.loadUnaligned(fromByteOffset: offset, as: V.self), a1)
                a2 = _mm256_fmadd_ps(q, k2.loadUnaligned(fromByteOffset: offset, as: V.self), a2)
                a3 = _mm256_fmadd_ps(q, k3.loadUnaligned(fromByteOffset: offset, as: V.self), a3)
            }
            step(q1, 32); step(q2, 64); step(q3, 96); step(q4, 128); step(q5, 160); step(q6, 192); step(q7, 224)
            // hadd(hadd(a0, a1), hadd(a2, a3)): lanes 0–3 the four sums over dims 0–3 of each 8, lanes 4–7 over 4–7.
            let h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3))
            UnsafeMutableRawPointer(att + t).storeBytes(of: (h.lowHalf + h.highHalf) * scale, as: SIMD4<Float>.self)
            t &+= 4
        }
        #endif
        while t < length {
            let k = UnsafeRawPointer(keys + t * stride)
            var a = q0 * k.loadUnaligned(as: V.self), b = q4 * k.loadUnaligned(fromByteOffset: 128, as: V.self)
            a.addProduct(q1, k.loadUnaligned(fromByteOffset: 32, as: V.self))
            b.addProduct(q5, k.loadUnaligned(fromByteOffset: 160, as: V.self))
            a.addProduct(q2, k.loadUnaligned(fromByteOffset: 64, as: V.self))
            b.addProduct(q6, k.loadUnaligned(fromByteOffset: 192, as: V.self))
            a.addProduct(q3, k.loadUnaligned(fromByteOffset: 96, as: V.self))
            b.addProduct(q7, k.loadUnaligned(fromByteOffset: 224, as: V.self))
            att[t] = (a + b).sum() * scale
            t += 1
        }
        softmax(att, count: length)
        var o0 = V(), o1 = V(), o2 = V(), o3 = V(), o4 = V(), o5 = V(), o6 = V(), o7 = V()
        for t in 0..<length {
            let v = UnsafeRawPointer(values + t * stride), p = V(repeating: att[t])
            o0.addProduct(p, v.loadUnaligned(as: V.self)); o1.addProduct(p, v.loadUnaligned(fromByteOffset: 32, as: V.self))
            o2.addProduct(p, v.loadUnaligned(fromByteOffset: 64, as: V.self)); o3.addProduct(p, v.loadUnaligned(fromByteOffset: 96, as: V.self))
            o4.addProduct(p, v.loadUnaligned(fromByteOffset: 128, as: V.self)); o5.addProduct(p, v.loadUnaligned(fromByteOffset: 160, as: V.self))
            o6.addProduct(p, v.loadUnaligned(fromByteOffset: 192, as: V.self)); o7.addProduct(p, v.loadUnaligned(fromByteOffset: 224, as: V.self))
        }
        let ro = UnsafeMutableRawPointer(o)
        ro.storeBytes(of: o0, as: V.self); ro.storeBytes(of: o1, toByteOffset: 32, as: V.self)
        ro.storeBytes(of: o2, toByteOffset: 64, as: V.self); ro.storeBytes(of: o3, toByteOffset: 96, as: V.self)
        ro.storeBytes(of: o4, toByteOffset: 128, as: V.self); ro.storeBytes(of: o5, toByteOffset: 160, as: V.self)
        ro.storeBytes(of: o6, toByteOffset: 192, as: V.self); ro.storeBytes(of: o7, toByteOffset: 224, as: V.self)
    }
}
