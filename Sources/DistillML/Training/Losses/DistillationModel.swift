import DistillData
import Foundation

/// A student trained on a mix of objective terms: cross-entropy (weighted per example: multitask, counterfactual,
/// ICL), dense KD against a local teacher model's logits, and top-k KD against harvested API logprobs.
///
/// Per target position n with example weight w_n (1 unless the objective weighs its tasks):
///   L_n = w_n · [α · CE_n + (1 − α) · T² · KD_n]
/// where KD_n is the `divergence` against the teacher's logits (computed in the same step by the inference engine)
/// or the `topK` loss where the batch carries the teacher's top-k for n (α·CE alone elsewhere). With no KD, α = 1.
/// T² keeps the soft term's gradient scale independent of T (Hinton et al. 2015; axolotl's `kd_alpha·T²`).
/// The Trainer divides Σ L_n by the step's target count, so the reported loss is their mean.
///
/// It is a `TrainableModel` around a `TrainableLlama` (same parameters, gradients, checkpoints): the training loop
/// is unchanged. After each step `terms` holds the mean of each term over its positions, for the log.
public final class DistillationModel: TrainableModel, TrainingRandomState, TrainingStepObserver {
    public struct Objective: Sendable {
        /// Names of the cross-entropy terms, indexed by `TrainingExample.term` (["ce"] for a plain objective).
        public var termNames: [String]
        /// Weight of each CE term (same order; empty = every term weighs 1 per token, plain cross-entropy). Each term
        /// is averaged over its own target tokens in the step, then mixed: Σ_τ w_τ · mean_τ (over the terms present
        /// in the step, weights renormalised), as Distilling Step-by-Step's and 2504.16056's trainers do per batch.
        public var termWeights: [Double] = []
        /// α: the weight of cross-entropy against the KD term (1 when there is no KD).
        public var ceWeight: Double
        public var divergence: Divergence?
        public var topK: TopKDistillation?
        public var temperature: Double

        public init(termNames: [String] = ["ce"], ceWeight: Double = 1, divergence: Divergence? = nil,
                    topK: TopKDistillation? = nil, temperature: Double = 1) {
            self.termNames = termNames
            self.ceWeight = ceWeight
            self.divergence = divergence
            self.topK = topK
            self.temperature = temperature
        }

        /// The KD term's name in logs.
        public var kdName: String? { divergence?.name ?? topK.map { "topk_" + $0.rawValue.replacingOccurrences(of: "-", with: "_") } }
    }

    public let student: TrainableLlama
    public let teacher: LlamaModel?
    public let objective: Objective
    /// Sum and count of each term since `resetTerms()` (CE terms by name, then the KD term).
    public private(set) var termSums: [String: Double] = [:]
    public private(set) var termCounts: [String: Int] = [:]

    /// Per-term factor for the step in progress: w_τ · (step targets) / (term τ's targets in the step).
    var stepFactors: [Double] = []

    public func willAccumulate(_ batches: [TrainingBatch]) {
        let w = objective.termWeights
        guard w.count > 1 else { stepFactors = []; return }
        var counts = [Int](repeating: 0, count: w.count)
        var total = 0
        for b in batches {
            for n in b.targets.indices where b.targets[n] != TrainingBatch.ignore {
                let t = Int(b.terms?[n] ?? 0)
                if t < counts.count { counts[t] += 1 }
                total += 1
            }
        }
        let present = w.indices.filter { counts[$0] > 0 }.reduce(0.0) { $0 + w[$1] }
        stepFactors = w.indices.map { counts[$0] > 0 && present > 0 ? w[$0] / present * Double(total) / Double(counts[$0]) : 0 }
    }

    /// The weight of position n: its term's step factor (or the example weight when the objective has no term weights).
    func weight(_ batch: TrainingBatch, _ n: Int) -> Double {
        let base = Double(batch.weights?[n] ?? 1)
        guard !stepFactors.isEmpty else { return base }
        let t = Int(batch.terms?[n] ?? 0)
        return t < stepFactors.count ? stepFactors[t] : base
    }

    public init(student: TrainableLlama, teacher: LlamaModel? = nil, objective: Objective) throws {
        if objective.divergence != nil {
            guard let teacher else { throw DistillMLError(file: "<train>", "a dense KD loss needs a teacher model (--teacher-model)") }
            guard teacher.config.vocabSize == student.config.vocabSize else {
                throw DistillMLError(file: "<train>", "the teacher's vocabulary (\(teacher.config.vocabSize)) differs from the student's "
                    + "(\(student.config.vocabSize)); dense KD needs the same tokenizer")
            }
        }
        guard objective.temperature > 0, objective.temperature.isFinite, (0...1).contains(objective.ceWeight) else {
            throw DistillMLError(file: "<train>", "temperature must be positive and α within 0…1")
        }
        self.student = student
        self.teacher = teacher
        self.objective = objective
    }

    public var tensors: [TrainableTensor] { student.tensors }
    public var parameters: UnsafeMutableBufferPointer<Float> { student.parameters }
    public var gradients: UnsafeMutableBufferPointer<Float> { student.gradients }
    public func zeroGradients() { student.zeroGradients() }
    public var randomStream: UInt64 {
        get { student.dropoutStream }
        set { student.dropoutStream = newValue }
    }

    /// Mean of each term since the last reset, names sorted (CE terms, then KD).
    public var terms: [(name: String, mean: Double)] {
        termSums.keys.sorted().map { ($0, termSums[$0, default: 0] / Double(max(1, termCounts[$0, default: 0]))) }
    }

    public func resetTerms() {
        termSums = [:]
        termCounts = [:]
    }

    public func accumulateGradients(_ batch: TrainingBatch, lossScale: Float) throws -> (lossSum: Double, targets: Int) {
        try pass(batch, lossScale: lossScale, training: true)
    }

    public func evaluate(_ batch: TrainingBatch) throws -> (lossSum: Double, targets: Int) {
        // Validation reports plain cross-entropy, comparable across objectives.
        try student.evaluate(batch)
    }

    /// Forward, the loss per target row over the head's chunks of rows (the student's (M, V) logits never exist
    /// whole), then the backward pass.
    func pass(_ batch: TrainingBatch, lossScale: Float, training: Bool) throws -> (lossSum: Double, targets: Int) {
        let a = try student.forwardTrunk(batch, rows: .targets, training: training)
        let rows = student.logitRowIndices
        let V = student.config.vocabSize, M = rows.count
        let teacherRow = try teacherLogits(batch, rows: rows)
        let o = objective
        let T = o.temperature, t2 = T * T
        let ce = UnsafeMutablePointer<Double>.allocate(capacity: max(1, M))
        let kd = UnsafeMutablePointer<Double>.allocate(capacity: max(1, M))
        let hasKD = UnsafeMutablePointer<Bool>.allocate(capacity: max(1, M))
        defer { ce.deallocate(); kd.deallocate(); hasKD.deallocate() }
        let topK = batch.teacherTopK
        let weights = rows.map { weight(batch, $0) }
        student.headChunks(a, backward: training) { chunk, logits in
            Parallel.forEach(chunk.count) { i in
                let m = chunk.lowerBound + i
                let n = rows[m]
                let row = logits + i * V
                let w = weights[m]
                let target = Int(batch.targets[n])
                var kdGrad: [Float] = []
                hasKD[m] = false
                kd[m] = 0
                if let d = o.divergence, let tr = teacherRow[n] {
                    kdGrad = [Float](repeating: 0, count: V)
                    kd[m] = kdGrad.withUnsafeMutableBufferPointer {
                        d.loss(student: row, teacher: tr, V: V, temperature: T, gradient: $0.baseAddress!,
                               scale: Double(lossScale) * w * (1 - o.ceWeight) * t2)
                    }
                    hasKD[m] = true
                } else if let variant = o.topK, let entry = topK?[n], entry.ids.allSatisfy({ (0..<Int32(V)).contains($0) }) {
                    kdGrad = [Float](repeating: 0, count: V)
                    kd[m] = kdGrad.withUnsafeMutableBufferPointer {
                        variant.loss(student: row, V: V, ids: entry.ids.map(Int.init), logprobs: entry.logprobs,
                                     tail: entry.tail.map(Double.init), temperature: T,
                                     gradient: $0.baseAddress!, scale: Double(lossScale) * w * (1 - o.ceWeight) * t2)
                    }
                    hasKD[m] = true
                }
                let alpha = hasKD[m] || o.divergence != nil || o.topK != nil ? o.ceWeight : 1
                // Cross-entropy in Double: logZ − z[target]; gradient softmax − onehot.
                var mx = -Double.infinity
                for v in 0..<V { mx = max(mx, Double(row[v])) }
                var sum = 0.0
                for v in 0..<V { sum += exp(Double(row[v]) - mx) }
                let logZ = mx + log(sum)
                ce[m] = logZ - Double(row[target])
                guard training else { return }
                let s = Double(lossScale) * w * alpha
                for v in 0..<V {
                    var g = exp(Double(row[v]) - logZ) * s
                    if v == target { g -= s }
                    row[v] = Float(g) + (kdGrad.isEmpty ? 0 : kdGrad[v])
                }
            }
        }
        var lossSum = 0.0
        for m in 0..<M {
            let n = rows[m]
            let w = weights[m]
            let mixed = o.divergence != nil || o.topK != nil
            lossSum += w * ((mixed ? o.ceWeight : 1) * ce[m] + (hasKD[m] ? (1 - o.ceWeight) * t2 * kd[m] : 0))
            let term = Int(batch.terms?[n] ?? 0)
            let name = term < o.termNames.count ? o.termNames[term] : "ce"
            termSums[name, default: 0] += ce[m]
            termCounts[name, default: 0] += 1
            if hasKD[m], let kdName = o.kdName {
                termSums[kdName, default: 0] += kd[m]
                termCounts[kdName, default: 0] += 1
            }
        }
        if training { try student.backward(headDone: true) }
        return (lossSum, M)
    }

    /// The teacher's logits for every target position (flat index → row), from one inference-engine forward over
    /// each packed item that has a target (a fresh KV cache per batch).
    func teacherLogits(_ batch: TrainingBatch, rows: [Int]) throws -> [Int: UnsafePointer<Float>] {
        guard objective.divergence != nil, let teacher else { return [:] }
        var chunks: [LlamaModel.Chunk] = []
        var starts: [(flat: Int, count: Int)] = []
        let T = batch.T
        for b in 0..<batch.B {
            var t = 0
            while t < T {
                var e = t
                while e < T, batch.segments[b * T + e] == batch.segments[b * T + t] { e += 1 }
                if (t..<e).contains(where: { batch.targets[b * T + $0] != TrainingBatch.ignore }) {
                    chunks.append(.init(slot: chunks.count, tokens: (t..<e).map { Int(batch.tokens[b * T + $0]) }))
                    starts.append((b * T + t, e - t))
                }
                t = e
            }
        }
        guard !chunks.isEmpty else { return [:] }
        let cache = KVCache(config: teacher.config, slots: chunks.count, capacity: T)
        try teacher.forward(chunks, cache: cache, logits: .all)
        var map: [Int: UnsafePointer<Float>] = [:]
        var r = 0
        for s in starts {
            for i in 0..<s.count {
                if batch.targets[s.flat + i] != TrainingBatch.ignore { map[s.flat + i] = teacher.logits(r).baseAddress! }
                r += 1
            }
        }
        return map
    }
}
