import Foundation

extension Kernels {
    /// Fused log-softmax + cross-entropy over M rows: logits (M,V), targets (M) -> losses (M).
    ///   losses[m] = logsumexp(logits[m]) − logits[m, target]   (0 where target == −1)
    /// When `dlossScale` is given, each row of logits is replaced in place by d(scale·Σ losses)/d(logits) =
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
            let r = UnsafeMutableRawPointer(row)
            var m8 = SIMD8<Float>(repeating: -.infinity)
            var i = 0
            while i + 8 <= V {
                m8 = lanewiseMax(m8, r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
                i += 8
            }
            var mx = m8.max()
            while i < V { mx = max(mx, row[i]); i += 1 }
            var s8 = SIMD8<Float>()
            i = 0
            while i + 8 <= V {
                s8 += exp(r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - mx)
                i += 8
            }
            var sum = s8.sum()
            while i < V { sum += expf(row[i] - mx); i += 1 }
            let logZ = mx + logf(sum)
            losses[m] = logZ - row[target]
            guard let scale = dlossScale else { return }
            let z = SIMD8<Float>(repeating: logZ), sc = SIMD8<Float>(repeating: scale)
            i = 0
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
