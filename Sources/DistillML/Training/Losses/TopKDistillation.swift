import Foundation

/// Forward KL over only the teacher's top-k tokens (API logprobs), one position at a time (training.md §2.6).
///
/// The teacher gives k token ids with their log-probs; the student has full logits. Variants:
/// - `tail` (default; TRL `ServerDistillationTrainer` with `loss_add_tail=True`): a (k+1)-way distribution with the
///   leftover mass as one bucket on both sides, KL(P̄‖Q̄).
/// - `renormalized` (TRL `loss_add_tail=False`): both renormalised on K, KL(p̂‖q̂).
/// - `renormalizedTeacher` (axolotl `kd_normalize_topk`): Σ_K p̂ (log p̂ − log q), q from the full softmax.
/// - `zero` (DistillKit `missing_probability_handling: zero`, EasyDistill 1.0): Σ_K p (log p − log q).
///
/// Temperature T: the student logits are divided by T; the teacher's top-k (and, for `tail`, its leftover bucket)
/// are raised to the power 1/T and renormalised over the k (+1) entries, as axolotl / DistillKit do
/// (`p^(T1/T2) / Z` with the sampling temperature T1 folded into the logprobs). T = 1 leaves both as given.
public enum TopKDistillation: String, Sendable, CaseIterable {
    case tail
    case renormalized = "renorm"
    case renormalizedTeacher = "renorm-teacher"
    case zero

    /// The loss at one position and, when `gradient` is given, `scale · ∂L/∂studentLogits` there (V values; may
    /// alias `student`). `ids` must be distinct and in 0..<V (the caller maps and checks them).
    /// `tail`, when given, is the teacher's leftover mass outside K as measured from its full distribution (a teacher
    /// logit cache); otherwise it is 1 − Σ_K p from the logprobs.
    public func loss(student: UnsafePointer<Float>, V: Int, ids: [Int], logprobs: [Float], tail: Double? = nil, temperature: Double = 1,
                     gradient: UnsafeMutablePointer<Float>? = nil, scale: Double = 1) -> Double {
        var logQ = [Double](repeating: 0, count: V)
        Divergence.logSoftmax(student, V: V, temperature: temperature, into: &logQ)
        let k = ids.count
        // Teacher over K (and its tail), tempered.
        var lp = logprobs.map { Double($0) }
        var teacherTail = tail.map { max(0, $0) } ?? max(0, 1 - lp.reduce(0) { $0 + exp($1) })
        if temperature != 1 {
            var w = lp.map { exp($0 / temperature) }
            var tailW = teacherTail > 0 ? pow(teacherTail, 1 / temperature) : 0
            if self != .tail { tailW = 0 }
            let z = w.reduce(0, +) + tailW
            w = w.map { $0 / z }
            lp = w.map { log($0) }
            teacherTail = self == .tail ? tailW / z : max(0, 1 - w.reduce(0, +))
        }
        let p = lp.map { exp($0) }
        let massP = p.reduce(0, +)
        let q = ids.map { exp(logQ[$0]) }
        let massQ = q.reduce(0, +)
        var loss = 0.0
        // Target vector t: ∂L/∂s = c·q − t (c = 1 except `zero`, where c = Σ_K p, and `renormalized`, handled apart).
        var target = [Double](repeating: 0, count: k)
        var tailFactor = 0.0  // for v ∉ K: ∂L/∂s_v = q_v · (c − tailFactor)
        var c = 1.0
        switch self {
        case .tail:
            for i in 0..<k where p[i] > 0 { loss += p[i] * (lp[i] - logQ[ids[i]]) }
            // The student's tail summed directly (1 − Σ_K q cancels catastrophically when K holds nearly all the mass).
            var inK = [Bool](repeating: false, count: V)
            for id in ids { inK[id] = true }
            var tailSum = 0.0
            for v in 0..<V where !inK[v] { tailSum += exp(logQ[v]) }
            let qTail = max(tailSum, Double.leastNonzeroMagnitude)
            if teacherTail > 0 { loss += teacherTail * (log(teacherTail) - log(qTail)) }
            target = p
            tailFactor = teacherTail / qTail
        case .renormalized:
            let logMassQ = log(max(massQ, Double.leastNonzeroMagnitude))
            for i in 0..<k where p[i] > 0 {
                let ph = p[i] / massP
                loss += ph * (log(ph) - (logQ[ids[i]] - logMassQ))
            }
        case .renormalizedTeacher:
            for i in 0..<k where p[i] > 0 {
                let ph = p[i] / massP
                loss += ph * (log(ph) - logQ[ids[i]])
                target[i] = ph
            }
        case .zero:
            for i in 0..<k where p[i] > 0 { loss += p[i] * (lp[i] - logQ[ids[i]]) }
            target = p
            c = massP
        }
        guard let gradient else { return loss }
        let f = scale / temperature
        if self == .renormalized {
            // Depends on the logits of K only: ∂L/∂s_v = q̂_v − p̂_v on K, 0 elsewhere.
            for v in 0..<V { gradient[v] = 0 }
            for i in 0..<k { gradient[ids[i]] = Float((q[i] / massQ - p[i] / massP) * f) }
            return loss
        }
        for v in 0..<V { gradient[v] = Float(exp(logQ[v]) * (c - tailFactor) * f) }
        for i in 0..<k { gradient[ids[i]] = Float((c * q[i] - target[i]) * f) }
        return loss
    }
}

/// The teacher's top-k at one position, mapped to student token ids (distinct), with natural-log probabilities.
public struct TeacherTopK: Sendable, Equatable {
    public var ids: [Int32]
    public var logprobs: [Float]
    /// The teacher's mass outside `ids`, measured on its full distribution (teacher logit cache); nil for API
    /// logprobs, where it is taken as 1 − Σ exp(logprobs).
    public var tail: Float?

    public init(ids: [Int32], logprobs: [Float], tail: Float? = nil) {
        self.ids = ids
        self.logprobs = logprobs
        self.tail = tail
    }
}
