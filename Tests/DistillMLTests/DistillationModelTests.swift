import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// DistillationModel on the tiny model: with no KD it is the engine's own cross-entropy (same gradients); a teacher
/// identical to the student gives zero KD loss and zero KD gradient; per-term weights average each term as intended.
@Suite struct DistillationModelTests {
    static func batch() -> TrainingBatch {
        let tokens: [Int32] = [1, 70, 71, 72, 73, 2, 5, 6, 7, 8, 9, 10]
        var targets = [Int32](repeating: TrainingBatch.ignore, count: 12)
        for t in [2, 3, 4, 8, 9, 10] { targets[t] = tokens[t + 1] }
        return TrainingBatch(B: 2, T: 6, tokens: tokens, targets: targets, segments: [Int32](repeating: 0, count: 12))
    }

    static func gradients(_ m: any TrainableModel, _ b: TrainingBatch) throws -> ([Float], Double) {
        m.zeroGradients()
        let r = try m.accumulateGradients(b, lossScale: 1 / Float(b.targetCount))
        return (Array(m.gradients), r.lossSum)
    }

    @Test func withoutKDItIsTheEnginesCrossEntropy() throws {
        let p = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 3, scale: 0.3)
        let plain = try TrainableLlama(base: p, mode: .full)
        let wrapped = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), objective: .init())
        let b = Self.batch()
        let (g1, l1) = try Self.gradients(plain, b)
        let (g2, l2) = try Self.gradients(wrapped, b)
        #expect(abs(l1 - l2) < 1e-4 * abs(l1))
        let d = zip(g1, g2).map { abs($0 - $1) }.max() ?? 1
        let scale = g1.map(abs).max() ?? 1
        #expect(d <= 1e-5 * max(1, scale), "max |Δg| \(d)")
        #expect(wrapped.terms.map(\.name) == ["ce"])
    }

    @Test func anIdenticalTeacherAddsNothing() throws {
        let p = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 4, scale: 0.3)
        let b = Self.batch()
        let (gCE, lCE) = try Self.gradients(try TrainableLlama(base: p, mode: .full), b)
        for d in [Divergence.forwardKL, .reverseKL, .jsd(beta: 0.5), .skewKL(alpha: 0.1)] {
            let m = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), teacher: LlamaModel(parameters: p),
                                          objective: .init(ceWeight: 0.5, divergence: d, temperature: 2))
            let (g, l) = try Self.gradients(m, b)
            let kd = try #require(m.terms.first { $0.name == d.name })
            #expect(abs(kd.mean) < 1e-5, "\(d): KD of a model with itself \(kd.mean)")
            // Loss and gradient are α × the cross-entropy's.
            #expect(abs(l - 0.5 * lCE) < 1e-3, "\(d)")
            let diff = zip(g, gCE).map { abs($0 - 0.5 * $1) }.max() ?? 1
            #expect(diff < 1e-4, "\(d): max |g − α·g_CE| \(diff)")
        }
    }

    @Test func aDifferentTeacherPullsTheStudentTowardsIt() throws {
        let p = LlamaParameters(config: TinyModel.config), q = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 5, scale: 0.3)
        q.randomize(seed: 6, scale: 0.3)
        let m = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), teacher: LlamaModel(parameters: q),
                                      objective: .init(ceWeight: 0, divergence: .forwardKL))
        let b = Self.batch()
        let opt = AdamW(parameterCount: m.parameters.count, settings: .init(weightDecay: 0))
        var first = 0.0, last = 0.0
        for step in 0..<15 {
            let (_, l) = try Self.gradients(m, b)
            if step == 0 { first = l } else { last = l }
            opt.update(m.tensors, parameters: m.parameters, gradients: m.gradients, lr: 3e-3)
        }
        #expect(first > 0 && last < 0.7 * first, "KL \(first) → \(last)")
    }

    @Test func termWeightsAverageEachTerm() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-obj-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (_, tok) = try ModelFiles.load(try { try TinyModel.writeGGUF(to: dir + "/t.gguf"); return dir + "/t.gguf" }())
        let rows = (0..<6).map { i in
            #"{"id": "q\#(i)", "question": "What is \#(i) + \#(i)?", "rationale": "\#(i) and \#(i) make \#(2 * i); the sum of two equal numbers is twice one 好", "answer": "\#(2 * i)", "correct": true, "path": 0}"#
        } + [#"{"id": "bad", "question": "x", "rationale": "y", "answer": "z", "correct": false, "path": 0}"#]
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/cot.jsonl", atomically: true, encoding: .utf8)
        var s = ObjectiveData.Settings(kind: .multitask)
        s.alpha = 0.3
        let d = try ObjectiveData.build(files: [dir + "/cot.jsonl"], settings: s)
        #expect(d.items.count == 12 && d.termNames == ["answer", "rationale"])
        #expect(d.items.first?.conversation.messages.first?.content == "predict: What is 0 + 0?")
        let data = try TrainingData.load(objective: d, tokenizer: TrainingTokenizer(tokenizer: tok, maxSequence: 128),
                                         validationFraction: 0, seed: 0)
        let n = Double(data.trainTargets)
        for (t, want) in [(0, 0.3), (1, 0.7)] {
            let share = data.train.filter { $0.term == t }.reduce(0.0) { $0 + Double($1.weight) * Double($1.targetCount) } / n
            #expect(abs(share - want) < 1e-6, "term \(t): \(share)")
        }
        // The rationale task's tokens outnumber the answer's; unweighted they would dominate.
        #expect(data.train.filter { $0.term == 1 }.reduce(0) { $0 + $1.targetCount } > data.train.filter { $0.term == 0 }.reduce(0) { $0 + $1.targetCount })
    }
}
