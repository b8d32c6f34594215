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
            let kvh = h / group
            let length = Int(positions[n]) + 1
            let slotBase = Int(slots[n]) * capacity * kvDim + kvh * hd
            let qh = q + n * qDim + h * hd
            let att = scores + job * capacity
            for t in 0..<length { att[t] = dot(qh, kCache + slotBase + t * kvDim, hd) * scale }
            softmax(att, count: length)
            let o = out + n * qDim + h * hd
            o.update(repeating: 0, count: hd)
            for t in 0..<length { axpy(o, att[t], vCache + slotBase + t * kvDim, hd) }
        }
    }
}
