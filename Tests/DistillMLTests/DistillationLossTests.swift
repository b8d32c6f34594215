import Foundation
import Testing
@testable import DistillML

/// The distillation losses: training.md §2.6's test vectors (exact arithmetic, natural log) and values and
/// gradients against PyTorch autograd / TRL's `generalized_jsd_loss` (fixture by
/// scripts/fixtures/make_kd_loss_fixture.py).
@Suite struct DistillationLossTests {
    /// Logits whose softmax is `probs` (log-probabilities are logits).
    static func logits(_ probs: [Double]) -> [Float] { probs.map { Float(log($0)) } }

    static func dense(_ d: Divergence, _ p: [Double], _ q: [Double]) -> Double {
        let s = logits(q), t = logits(p)
        return d.loss(student: s, teacher: t, V: s.count)
    }

    @Test func section26DenseVectors() {
        let p = [0.7, 0.2, 0.1], q = [0.2, 0.5, 0.3]
        let cases: [(Divergence, Double)] = [
            (.forwardKL, 0.5838147027), (.reverseKL, 0.5371764588),
            (.jsd(beta: 0.1), 0.0509950262), (.jsd(beta: 0.5), 0.1329180061), (.jsd(beta: 0.9), 0.0478639942),
            (.skewKL(alpha: 0.1), 0.4468885847), (.skewReverseKL(alpha: 0.1), 0.4274206150),
            (.jsd(beta: 0), 0.5838147027), (.jsd(beta: 1), 0.5371764588),
        ]
        for (d, want) in cases {
            // Float32 logits carry ~1e-8 relative error into the probabilities; 1e-7 is the 10-digit vector's own precision.
            #expect(abs(Self.dense(d, p, q) - want) < 1e-7, "\(d)")
        }
        // TRL's edge case: KL either way between [0.9, 0.1] and [0.1, 0.9].
        #expect(abs(Self.dense(.forwardKL, [0.9, 0.1], [0.1, 0.9]) - 1.7577796619) < 1e-7)
        #expect(abs(Self.dense(.reverseKL, [0.9, 0.1], [0.1, 0.9]) - 1.7577796619) < 1e-7)
    }

    @Test func section26TopKVectors() {
        let student = Self.logits([0.4, 0.3, 0.2, 0.1])
        let ids = [0, 1], lp: [Float] = [Float(log(0.6)), Float(log(0.25))]
        let want: [(TopKDistillation, Double)] = [(.tail, 0.0937265986), (.renormalized, 0.0384306628),
                                                   (.renormalizedTeacher, 0.3951056068), (.zero, 0.1976986757)]
        for (v, w) in want {
            #expect(abs(v.loss(student: student, V: 4, ids: ids, logprobs: lp) - w) < 1e-7, "\(v)")
        }
        // The tail gradient vector, logits z = [0.3, −0.2, 0.5, 0.1].
        let z: [Float] = [0.3, -0.2, 0.5, 0.1]
        var g = [Float](repeating: 0, count: 4)
        _ = TopKDistillation.tail.loss(student: z, V: 4, ids: ids, logprobs: lp, gradient: &g)
        let wantG = [-0.32577678, -0.08367521, 0.24513385, 0.16431813]
        for i in 0..<4 { #expect(abs(Double(g[i]) - wantG[i]) < 1e-7, "∂L/∂z[\(i)]") }
    }

    struct Fixture: Decodable {
        struct Case: Decodable {
            var kind: String
            var param: Double?
            var variant: String?
            var temperature: Double
            var student: [Float]
            var teacher: [Float]?
            var ids: [Int]?
            var logprobs: [Float]?
            var loss: Double
            var grad: [Double]
        }
        var cases: [Case]
    }

    @Test func valuesAndGradientsMatchPyTorch() throws {
        let url = URL(fileURLWithPath: ModelFixtures.fixturesDir + "/training/kd_losses.json")
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(f.cases.count == 44)
        var worstLoss = 0.0, worstGrad = 0.0
        for c in f.cases {
            let V = c.student.count
            var g = [Float](repeating: .nan, count: V)
            let value: Double
            if c.kind == "topk" {
                let v = try #require(TopKDistillation(rawValue: c.variant ?? ""))
                value = v.loss(student: c.student, V: V, ids: c.ids ?? [], logprobs: c.logprobs ?? [],
                               temperature: c.temperature, gradient: &g)
            } else {
                let d: Divergence = switch c.kind {
                case "kl_forward": .forwardKL
                case "kl_reverse": .reverseKL
                case "js": .jsd(beta: c.param ?? 0.5)
                case "skew_kl": .skewKL(alpha: c.param ?? 0.1)
                default: .skewReverseKL(alpha: c.param ?? 0.1)
                }
                value = d.loss(student: c.student, teacher: try #require(c.teacher), V: V, temperature: c.temperature,
                               gradient: &g)
            }
            let name = "\(c.kind) \(c.variant ?? "") \(c.param ?? 0) T=\(c.temperature)"
            #expect(abs(value - c.loss) < 1e-6, "\(name) loss \(value) vs \(c.loss)")
            worstLoss = max(worstLoss, abs(value - c.loss))
            for v in 0..<V {
                #expect(abs(Double(g[v]) - c.grad[v]) < 1e-4, "\(name) grad[\(v)] \(g[v]) vs \(c.grad[v])")
                worstGrad = max(worstGrad, abs(Double(g[v]) - c.grad[v]))
            }
        }
        print("kd_losses.json: max |Δloss| \(worstLoss), max |Δgrad| \(worstGrad)")
    }

    @Test func gradientIsScaledAndMayAliasTheStudentRow() {
        var z: [Float] = [0.3, -1.2, 2.0, 0.7, -0.4]
        let t: [Float] = [1.0, 0.2, -0.5, 0.3, 0.9]
        var g = [Float](repeating: 0, count: 5)
        let l1 = Divergence.jsd(beta: 0.5).loss(student: z, teacher: t, V: 5, temperature: 2, gradient: &g, scale: 0.25)
        let l2 = z.withUnsafeMutableBufferPointer { zz in
            Divergence.jsd(beta: 0.5).loss(student: zz.baseAddress!, teacher: t, V: 5, temperature: 2,
                                          gradient: zz.baseAddress!, scale: 0.25)
        }
        #expect(l1 == l2)
        #expect(z == g)
        // Gradients of a divergence sum to zero over the vocabulary (softmax's shift invariance).
        #expect(abs(g.reduce(0, +)) < 1e-6)
    }
}
