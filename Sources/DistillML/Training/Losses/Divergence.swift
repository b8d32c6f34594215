import Foundation

/// A token-level divergence between the teacher's next-token distribution P and the student's Q (training.md §2.4).
///
/// - `forwardKL`: KL(P‖Q), mode-covering (Hinton / seed 000 "forward KL"; TRL `generalized_jsd_loss` β = 0).
/// - `reverseKL`: KL(Q‖P), mode-seeking (MiniLLM's single-step term; TRL β = 1).
/// - `jsd(beta:)`: GKD's generalized JSD, β·KL(P‖M) + (1−β)·KL(Q‖M), M = β·P + (1−β)·Q (arXiv 2306.13649 Eq. 1,
///   TRL `GKDTrainer.generalized_jsd_loss`; β = 0 and β = 1 are the exact forward / reverse KL, as TRL special-cases).
/// - `skewKL(alpha:)`: KL(P ‖ α·P + (1−α)·Q) (DistiLLM, α = 0.1).
/// - `skewReverseKL(alpha:)`: KL(Q ‖ (1−α)·P + α·Q) (DistiLLM, α = 0.1).
public enum Divergence: Sendable, Equatable {
    case forwardKL
    case reverseKL
    case jsd(beta: Double)
    case skewKL(alpha: Double)
    case skewReverseKL(alpha: Double)

    /// Short name for logs (`kl_forward`, `js`, …).
    public var name: String {
        switch self {
        case .forwardKL: "kl_forward"
        case .reverseKL: "kl_reverse"
        case .jsd: "js"
        case .skewKL: "skew_kl"
        case .skewReverseKL: "skew_rkl"
        }
    }

    /// The divergence at one position from the two rows of logits, both divided by `temperature` first (as TRL
    /// does). When `gradient` is given, `scale · ∂L/∂studentLogits` is written there (V values; it may be the
    /// student row itself: the row is read fully before anything is written). Arithmetic is in Double.
    ///
    /// Gradients (s = z/T, q = softmax(s), g = ∂L/∂q, then ∂L/∂s = q ⊙ (g − Σ q·g), ∂L/∂z = ∂L/∂s / T):
    /// forward KL q − p; reverse KL q ⊙ (log q − log p − L); JSD (1−β)·log(q/m); skew KL −(1−α)·p/m;
    /// skew RKL log(q/m) − α·q/m.
    public func loss(student: UnsafePointer<Float>, teacher: UnsafePointer<Float>, V: Int, temperature: Double = 1,
                     gradient: UnsafeMutablePointer<Float>? = nil, scale: Double = 1) -> Double {
        var logQ = [Double](repeating: 0, count: V)
        var logP = [Double](repeating: 0, count: V)
        Self.logSoftmax(student, V: V, temperature: temperature, into: &logQ)
        Self.logSoftmax(teacher, V: V, temperature: temperature, into: &logP)
        var loss = 0.0
        var g = [Double](repeating: 0, count: V)  // ∂L/∂s
        switch self {
        case .forwardKL:
            for v in 0..<V {
                let p = exp(logP[v])
                if p > 0 { loss += p * (logP[v] - logQ[v]) }
                g[v] = exp(logQ[v]) - p
            }
        case .reverseKL:
            for v in 0..<V {
                let q = exp(logQ[v])
                if q > 0 { loss += q * (logQ[v] - logP[v]) }
            }
            for v in 0..<V { g[v] = exp(logQ[v]) * (logQ[v] - logP[v] - loss) }
        case .jsd(let beta) where beta <= 0:
            return Divergence.forwardKL.loss(student: student, teacher: teacher, V: V, temperature: temperature,
                                             gradient: gradient, scale: scale)
        case .jsd(let beta) where beta >= 1:
            return Divergence.reverseKL.loss(student: student, teacher: teacher, V: V, temperature: temperature,
                                             gradient: gradient, scale: scale)
        case .jsd(let beta):
            // log M = logsumexp(log q + log(1−β), log p + log β), computed stably as TRL does.
            var dq = [Double](repeating: 0, count: V)
            for v in 0..<V {
                let logM = Self.logAddExp(logQ[v] + log1p(-beta), logP[v] + log(beta))
                let p = exp(logP[v]), q = exp(logQ[v])
                if p > 0 { loss += beta * p * (logP[v] - logM) }
                if q > 0 { loss += (1 - beta) * q * (logQ[v] - logM) }
                dq[v] = (1 - beta) * (logQ[v] - logM)
            }
            Self.softmaxBackward(dq: dq, logQ: logQ, into: &g)
        case .skewKL(let alpha):
            var dq = [Double](repeating: 0, count: V)
            for v in 0..<V {
                let logM = Self.logAddExp(logP[v] + log(alpha), logQ[v] + log1p(-alpha))
                let p = exp(logP[v])
                if p > 0 { loss += p * (logP[v] - logM) }
                dq[v] = -(1 - alpha) * exp(logP[v] - logM)
            }
            Self.softmaxBackward(dq: dq, logQ: logQ, into: &g)
        case .skewReverseKL(let alpha):
            var dq = [Double](repeating: 0, count: V)
            for v in 0..<V {
                let logM = Self.logAddExp(logP[v] + log1p(-alpha), logQ[v] + log(alpha))
                let q = exp(logQ[v])
                if q > 0 { loss += q * (logQ[v] - logM) }
                dq[v] = logQ[v] - logM - alpha * exp(logQ[v] - logM)
            }
            Self.softmaxBackward(dq: dq, logQ: logQ, into: &g)
        }
        if let gradient {
            let k = scale / temperature
            for v in 0..<V { gradient[v] = Float(g[v] * k) }
        }
        return loss
    }

    /// Parses `--loss`-style names: kl-forward, kl-reverse, js, skew, skew-reverse.
    public init?(name: String, beta: Double, alpha: Double) {
        switch name {
        case "kl-forward", "kl", "forward-kl": self = .forwardKL
        case "kl-reverse", "reverse-kl": self = .reverseKL
        case "js", "jsd": self = .jsd(beta: beta)
        case "skew", "skew-kl": self = .skewKL(alpha: alpha)
        case "skew-reverse", "skew-rkl": self = .skewReverseKL(alpha: alpha)
        default: return nil
        }
    }

    /// log softmax(x / T) in Double.
    static func logSoftmax(_ x: UnsafePointer<Float>, V: Int, temperature: Double, into out: inout [Double]) {
        var mx = -Double.infinity
        for v in 0..<V {
            out[v] = Double(x[v]) / temperature
            mx = max(mx, out[v])
        }
        var sum = 0.0
        for v in 0..<V { sum += exp(out[v] - mx) }
        let logZ = mx + log(sum)
        for v in 0..<V { out[v] -= logZ }
    }

    /// ∂L/∂s from ∂L/∂q through the softmax: q ⊙ (dq − Σ q·dq).
    static func softmaxBackward(dq: [Double], logQ: [Double], into g: inout [Double]) {
        var dot = 0.0
        for v in dq.indices { dot += exp(logQ[v]) * dq[v] }
        for v in dq.indices { g[v] = exp(logQ[v]) * (dq[v] - dot) }
    }

    static func logAddExp(_ a: Double, _ b: Double) -> Double {
        let m = max(a, b)
        if m == -.infinity { return m }
        return m + log(exp(a - m) + exp(b - m))
    }
}
