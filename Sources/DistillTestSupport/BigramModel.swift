import DistillML
import Foundation

/// A tiny trainable model for testing the training loop without the engine: next-token logits are a row of a
/// V×V table plus a bias, `logits = W[token] + b`, softmax cross-entropy on the target positions.
/// It conforms to `TrainableModel` exactly as a real model does (one parameter slab, one gradient slab, `+=`).
public final class BigramModel: TrainableModel {
    public let vocabularySize: Int
    public let tensors: [TrainableTensor]
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>

    /// Seeded small random table (SplitMix-like LCG, fixed on every platform), zero bias.
    public init(vocabularySize V: Int, seed: UInt64 = 1) {
        vocabularySize = V
        tensors = [TrainableTensor(name: "bigram.weight", shape: [V, V], offset: 0),
                   TrainableTensor(name: "bigram.bias", shape: [V], offset: V * V)]
        let n = V * V + V
        parameters = .allocate(capacity: n)
        gradients = .allocate(capacity: n)
        parameters.initialize(repeating: 0)
        gradients.initialize(repeating: 0)
        var s = seed
        for i in 0..<(V * V) {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            parameters[i] = (Float(s >> 40) / Float(1 << 24) - 0.5) * 0.2
        }
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    public func zeroGradients() { gradients.update(repeating: 0) }

    public func accumulateGradients(_ batch: TrainingBatch, lossScale: Float) throws -> (lossSum: Double, targets: Int) {
        try run(batch, lossScale: lossScale)
    }

    public func evaluate(_ batch: TrainingBatch) throws -> (lossSum: Double, targets: Int) {
        try run(batch, lossScale: nil)
    }

    private func run(_ batch: TrainingBatch, lossScale: Float?) throws -> (lossSum: Double, targets: Int) {
        let V = vocabularySize
        var loss = 0.0
        var n = 0
        var p = [Float](repeating: 0, count: V)
        for i in 0..<(batch.B * batch.T) where batch.targets[i] != TrainingBatch.ignore {
            let x = Int(batch.tokens[i]), y = Int(batch.targets[i])
            guard (0..<V).contains(x), (0..<V).contains(y) else {
                throw DistillMLError(file: "batch", "token \(x) or target \(y) outside the vocabulary of \(V)")
            }
            var mx = -Float.infinity
            for j in 0..<V {
                p[j] = parameters[x * V + j] + parameters[V * V + j]
                mx = max(mx, p[j])
            }
            var sum: Float = 0
            for j in 0..<V {
                p[j] = exp(p[j] - mx)
                sum += p[j]
            }
            loss += Double(-(log(p[y] / sum)))
            n += 1
            if let scale = lossScale {
                for j in 0..<V {
                    let g = scale * (p[j] / sum - (j == y ? 1 : 0))
                    gradients[x * V + j] += g
                    gradients[V * V + j] += g
                }
            }
        }
        return (loss, n)
    }
}
