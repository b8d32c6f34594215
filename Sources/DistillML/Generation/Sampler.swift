import DistillData
import Foundation

/// How the next token is chosen. `temperature == 0` is greedy (argmax, lowest id on ties, as torch.argmax).
public struct SamplingParameters: Sendable, Equatable, Codable {
    public var temperature: Float
    /// Keep only the k most likely tokens (0 = off).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches p (1 = off).
    public var topP: Float
    /// Drop tokens less likely than minP × the most likely one (0 = off).
    public var minP: Float
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
    }

    public static let greedy = SamplingParameters()
}

/// Picks tokens from logits; separate from the model (llama2.c `Sampler`), one per sequence so that a sequence's
/// draws do not depend on what else is in the batch. Filters apply in HF's order: temperature, top-k, top-p, min-p.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: SplitMix64
    private var candidates: [(id: Int, p: Float)] = []

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if parameters.temperature <= 0 { return Self.argmax(logits) }
        let invT = 1 / parameters.temperature
        let maxLogit = logits[Self.argmax(logits)]
        // Probabilities at temperature T, unnormalised (exp of shifted logits); the max is 1.
        candidates.removeAll(keepingCapacity: true)
        let minRatio = parameters.minP > 0 ? parameters.minP : 0
        for (i, l) in logits.enumerated() {
            let p = expf((l - maxLogit) * invT)
            if p > 0 && p >= minRatio || parameters.topP < 1 || parameters.topK > 0 { candidates.append((i, p)) }
        }
        candidates.sort { $0.p > $1.p || ($0.p == $1.p && $0.id < $1.id) }
        if parameters.topK > 0 && candidates.count > parameters.topK { candidates.removeLast(candidates.count - parameters.topK) }
        if parameters.topP < 1 {
            let total = candidates.reduce(Float(0)) { $0 + $1.p }
            var running: Float = 0
            var keep = candidates.count
            for (i, c) in candidates.enumerated() {
                running += c.p
                if running >= parameters.topP * total { keep = i + 1; break }
            }
            candidates.removeLast(candidates.count - keep)
        }
        if parameters.minP > 0, let top = candidates.first?.p {
            candidates.removeAll { $0.p < parameters.minP * top }
        }
        let total = candidates.reduce(Float(0)) { $0 + $1.p }
        var r = Float(rng.nextUnit()) * total
        for c in candidates {
            r -= c.p
            if r < 0 { return c.id }
        }
        return candidates.last?.id ?? Self.argmax(logits)
    }

    /// Index of the largest logit (first one on ties). One vectorised pass for the maximum, then the first index
    /// holding it (49152 logits per token per sequence: a scalar compare-and-branch loop showed in profiles).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        guard let base = logits.baseAddress, !logits.isEmpty else { return 0 }
        let m = maximum(base, logits.count)
        return logits.firstIndex(of: m) ?? 0
    }

    /// The largest value, 16 lanes per step.
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        let r = UnsafeRawPointer(x)
        var m0 = SIMD8<Float>(repeating: -.infinity), m1 = m0
        var i = 0
        while i + 16 <= count {
            m0 = Kernels.lanewiseMax(m0, r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
            m1 = Kernels.lanewiseMax(m1, r.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self))
            i += 16
        }
        var m = Kernels.lanewiseMax(m0, m1).max()
        while i < count { m = max(m, x[i]); i += 1 }
        return m
    }

    /// log Σ exp(x): e^x 8 lanes at a time, each block of 512 terms summed in Float and the blocks in Double.
    static func logSumExp(_ x: UnsafePointer<Float>, _ count: Int, max m: Float) -> Float {
        let r = UnsafeRawPointer(x)
        var total: Double = 0
        var i = 0
        while i + 8 <= count {
            var block = SIMD8<Float>()
            let end = min(count, i + 512)
            while i + 8 <= end {
                block += Kernels.exp(r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - m)
                i += 8
            }
            total += Double(block.sum())
        }
        while i < count { total += Double(expf(x[i] - m)); i += 1 }
        return m + Float(log(total))
    }

    /// log-softmax of `logits` at `id` (temperature 1: the model's own distribution), and the `top` most likely
    /// (id, logprob) pairs, best first.
    public static func logprobs(_ logits: UnsafeBufferPointer<Float>, id: Int, top: Int) -> (Float, [(id: Int, logprob: Float)]) {
        guard let base = logits.baseAddress, !logits.isEmpty else { return (0, []) }
        let logZ = logSumExp(base, logits.count, max: maximum(base, logits.count))
        var best: [(id: Int, logprob: Float)] = []
        if top > 0 {
            // Keep a small sorted list instead of sorting the vocabulary.
            for (i, l) in logits.enumerated() where best.count < top || l > best[best.count - 1].logprob {
                let at = best.firstIndex { l > $0.logprob } ?? best.count
                best.insert((i, l), at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return (logits[id] - logZ, best.map { ($0.id, $0.logprob - logZ) })
    }
}
