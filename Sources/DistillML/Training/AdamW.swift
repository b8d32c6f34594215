import Foundation

/// AdamW (Loshchilov & Hutter 2019) over a trainable model's parameter slab, as `torch.optim.AdamW` computes it:
///
///     θ ← θ · (1 − lr·λ)                       (decoupled weight decay; tensors of ≥ 2 dims only)
///     m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
///     θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// The moments live in two slabs of the parameters' layout; a checkpoint saves them as they are.
public final class AdamW {
    public struct Settings: Sendable, Equatable, Codable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var epsilon: Float = 1e-8
        public var weightDecay: Float = 0
        public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let settings: Settings
    /// First and second moments, one value per parameter.
    public var m: [Float]
    public var v: [Float]
    /// Updates taken so far (t in the bias corrections).
    public var step: Int = 0

    public init(parameterCount: Int, settings: Settings) {
        self.settings = settings
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` from `gradients` at learning rate `lr`.
    public func update(_ tensors: [TrainableTensor], parameters: UnsafeMutableBufferPointer<Float>,
                       gradients: UnsafeMutableBufferPointer<Float>, lr: Float) {
        step += 1
        let s = settings
        let bc1 = 1 - Float(pow(Double(s.beta1), Double(step)))
        let bc2Sqrt = Float(sqrt(1 - pow(Double(s.beta2), Double(step))))
        let stepSize = lr / bc1
        // Elementwise, so any split gives the same bits: the slab is cut into pieces of at most `piece` values
        // (none crossing a tensor, whose decay differs) and the pieces run on every worker, 16 lanes at a time.
        let piece = 1 << 16
        var pieces: [(lo: Int, hi: Int, decay: Float)] = []
        for t in tensors {
            let decay: Float = t.decays ? 1 - lr * s.weightDecay : 1
            var lo = t.offset
            let end = t.offset + t.count
            while lo < end {
                pieces.append((lo, min(end, lo + piece), decay))
                lo += piece
            }
        }
        let b1 = s.beta1, b2 = s.beta2, eps = s.epsilon
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                guard !pieces.isEmpty, let m = m.baseAddress, let v = v.baseAddress, let p = parameters.baseAddress,
                      let g = gradients.baseAddress else { return }
                Parallel.forEach(pieces.count) { k in
                    let (lo, hi, decay) = pieces[k]
                    var i = lo
                    while i + 16 <= hi {
                        let gi = Self.load(g + i)
                        let mi = b1 * Self.load(m + i) + (1 - b1) * gi
                        let vi = b2 * Self.load(v + i) + (1 - b2) * gi * gi
                        Self.store(mi, m + i)
                        Self.store(vi, v + i)
                        let pi = Self.load(p + i) * decay - stepSize * (mi / (vi.squareRoot() / bc2Sqrt + eps))
                        Self.store(pi, p + i)
                        i += 16
                    }
                    while i < hi {
                        let gi = g[i]
                        let mi = b1 * m[i] + (1 - b1) * gi
                        let vi = b2 * v[i] + (1 - b2) * gi * gi
                        m[i] = mi
                        v[i] = vi
                        p[i] = p[i] * decay - stepSize * (mi / (vi.squareRoot() / bc2Sqrt + eps))
                        i += 1
                    }
                }
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) private static func store(_ x: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD16<Float>.self)
    }

    /// The global L2 norm of `gradients`, summed in Double in a fixed order whatever the thread count: pieces of
    /// 2¹⁶ values, each with eight running sums, then the pieces' sums in slab order (the same bits every run).
    public static func globalNorm(_ gradients: UnsafeMutableBufferPointer<Float>) -> Double {
        let n = gradients.count, piece = 1 << 16
        guard n > 0, let g = gradients.baseAddress else { return 0 }
        let count = (n + piece - 1) / piece
        var sums = [Double](repeating: 0, count: count)
        sums.withUnsafeMutableBufferPointer { sums in
            Parallel.forEach(count) { k in
                var i = k * piece
                let hi = min(n, i + piece)
                var acc = SIMD8<Double>()
                while i + 8 <= hi {
                    let x = SIMD8<Double>(UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self))
                    acc += x * x
                    i += 8
                }
                var sum = acc.sum()
                while i < hi {
                    sum += Double(g[i]) * Double(g[i])
                    i += 1
                }
                sums[k] = sum
            }
        }
        return sums.reduce(0, +).squareRoot()
    }

    /// Scales `gradients` so their global norm is at most `maxNorm` (`torch.nn.utils.clip_grad_norm_`:
    /// factor `maxNorm / (norm + 1e-6)`, applied only when below 1). Returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Double) -> Double {
        let norm = globalNorm(gradients)
        guard maxNorm > 0, norm.isFinite else { return norm }
        let factor = Float(maxNorm / (norm + 1e-6))
        if factor < 1, let g = gradients.baseAddress {
            let n = gradients.count, piece = 1 << 16
            Parallel.forEach((n + piece - 1) / piece) { k in
                for i in (k * piece)..<min(n, (k + 1) * piece) { g[i] *= factor }
            }
        }
        return norm
    }
}
