import Foundation

extension Kernels {
    /// Log-softmax + cross-entropy, forward and backward fused, over M rows:
    ///   logits (M,V), targets (M) -> losses (M), losses[m] = logsumexp(logits[m]) − logits[m, target]
    ///   (0 where target == −1).
    /// With `dlossScale`, each row of logits is replaced in place by its backward, d(scale·Σ losses)/d(logits) =
    /// scale·(softmax − onehot(target)) (zeros for ignored rows): the head's backward reads it from there.
    static func crossEntropy(_ logits: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
                             targets: UnsafePointer<Int32>, M: Int, V: Int, dlossScale: Float?) {
        Parallel.forEach(M) { m in
            let row = logits + m * V
            let target = Int(targets[m])
            guard target >= 0 else {
                losses[m] = 0
                if dlossScale != nil { row.update(repeating: 0, count: V) }
                return
            }
            let mx = rowMax(row, V)
            let logZ = mx + logf(expSum(row, V, minus: mx, store: false))
            losses[m] = logZ - row[target]
            guard let scale = dlossScale else { return }
            let r = UnsafeMutableRawPointer(row)
            let z = SIMD8<Float>(repeating: logZ), sc = SIMD8<Float>(repeating: scale)
            var i = 0
            while i + 8 <= V {
                let e = exp(r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - z) * sc
                r.storeBytes(of: e, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                i += 8
            }
            while i < V { row[i] = expf(row[i] - logZ) * scale; i += 1 }
            row[target] -= scale
        }
    }
}
