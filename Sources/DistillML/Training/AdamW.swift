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
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for t in tensors {
                    let decay: Float = t.decays ? 1 - lr * s.weightDecay : 1
                    // Elementwise, so any order gives the same bits; tensors are independent.
                    for i in t.offset..<(t.offset + t.count) {
                        let g = gradients[i]
                        var p = parameters[i] * decay
                        let mi = s.beta1 * m[i] + (1 - s.beta1) * g
                        let vi = s.beta2 * v[i] + (1 - s.beta2) * g * g
                        m[i] = mi
                        v[i] = vi
                        p -= stepSize * (mi / (vi.squareRoot() / bc2Sqrt + s.epsilon))
                        parameters[i] = p
                    }
                }
            }
        }
    }

    /// The global L2 norm of `gradients` (summed in Double, in slab order: the same bits every run).
    public static func globalNorm(_ gradients: UnsafeMutableBufferPointer<Float>) -> Double {
        var sum = 0.0
        var i = 0
        let n = gradients.count
        // Eight running sums in a fixed order: fast and still deterministic.
        var acc = SIMD8<Double>()
        while i + 8 <= n {
            let g = SIMD8<Double>(Double(gradients[i]), Double(gradients[i + 1]), Double(gradients[i + 2]), Double(gradients[i + 3]),
                                  Double(gradients[i + 4]), Double(gradients[i + 5]), Double(gradients[i + 6]), Double(gradients[i + 7]))
            acc += g * g
            i += 8
        }
        sum = acc.sum()
        while i < n {
            sum += Double(gradients[i]) * Double(gradients[i])
            i += 1
        }
        return sum.squareRoot()
    }

    /// Scales `gradients` so their global norm is at most `maxNorm` (`torch.nn.utils.clip_grad_norm_`:
    /// factor `maxNorm / (norm + 1e-6)`, applied only when below 1). Returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: UnsafeMutableBufferPointer<Float>, maxNorm: Double) -> Double {
        let norm = globalNorm(gradients)
        guard maxNorm > 0, norm.isFinite else { return norm }
        let factor = Float(maxNorm / (norm + 1e-6))
        if factor < 1 {
            for i in gradients.indices { gradients[i] *= factor }
        }
        return norm
    }
}
