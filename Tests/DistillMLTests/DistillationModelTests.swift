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

    /// The small batch (one head chunk) and one of 310 target rows (two chunks of the head's 256 rows).
    static let batches: [String] = ["small", "two head chunks"]
    static func batch(_ name: String) -> TrainingBatch { name == "small" ? batch() : TrainingMemoryTests.batches()[0] }

    static func gradients(_ m: any TrainableModel, _ b: TrainingBatch) throws -> ([Float], Double) {
        m.zeroGradients()
        let r = try m.accumulateGradients(b, lossScale: 1 / Float(b.targetCount))
        return (Array(m.gradients), r.lossSum)
    }

    @Test(arguments: batches) func withoutKDItIsTheEnginesCrossEntropy(_ batch: String) throws {
        let p = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 3, scale: 0.3)
        let plain = try TrainableLlama(base: p, mode: .full)
        let wrapped = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), objective: .init())
        let b = Self.batch(batch)
        let (g1, l1) = try Self.gradients(plain, b)
        let (g2, l2) = try Self.gradients(wrapped, b)
        #expect(abs(l1 - l2) < 1e-4 * abs(l1))
        let d = zip(g1, g2).map { abs($0 - $1) }.max() ?? 1
        let scale = g1.map(abs).max() ?? 1
        #expect(d <= 1e-5 * max(1, scale), "max |Δg| \(d)")
        #expect(wrapped.terms.map(\.name) == ["ce"])
    }

    @Test(arguments: batches) func anIdenticalTeacherAddsNothing(_ batch: String) throws {
        let p = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 4, scale: 0.3)
        let b = Self.batch(batch)
        let (gCE, lCE) = try Self.gradients(try TrainableLlama(base: p, mode: .full), b)
        for d in [Divergence.forwardKL, .reverseKL, .jsd(beta: 0.5), .skewKL(alpha: 0.1)] {
            let m = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), teacher: LlamaModel(parameters: p),
                                          objective: .init(ceWeight: 0.5, divergence: d, temperature: 2))
            let (g, l) = try Self.gradients(m, b)
            let kd = try #require(m.terms.first { $0.name == d.name })
            #expect(abs(kd.mean) < 1e-5, "\(d): KD of a model with itself \(kd.mean)")
            // Loss and gradient are α × the cross-entropy's.
            #expect(abs(l - 0.5 * lCE) < 1e-3 + 1e-6 * abs(lCE), "\(d)")
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
        let p = LlamaParameters(config: TinyModel.config)
        p.randomize(seed: 8, scale: 0.3)
        // Each term's mean cross-entropy, from the engine alone on that term's examples.
        let plain = try TrainableLlama(base: p, mode: .full)
        var means: [Double] = []
        for t in 0..<2 {
            let rows = data.train.indices.filter { data.train[$0].term == t }.map { [$0] }
            let r = try plain.evaluate(TrainingPlan.batch(rows, examples: data.train, padID: 2))
            means.append(r.lossSum / Double(r.targets))
        }
        // One step over everything: the reported loss is 0.3·mean_answer + 0.7·mean_rationale, not the token-weighted mean.
        let m = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), objective: .init(termNames: d.termNames))
        var o = m.objective
        o.termWeights = d.termWeights
        let mixed = try DistillationModel(student: try TrainableLlama(base: p, mode: .full), objective: o)
        let batch = TrainingPlan.batch(data.train.indices.map { [$0] }, examples: data.train, padID: 2)
        mixed.willAccumulate([batch])
        let r = try mixed.accumulateGradients(batch, lossScale: 1 / Float(batch.targetCount))
        let want = 0.3 * means[0] + 0.7 * means[1]
        #expect(abs(r.lossSum / Double(r.targets) - want) < 1e-4 * want, "\(r.lossSum / Double(r.targets)) vs \(want)")
        // The rationale task's tokens outnumber the answer's: the token-weighted mean would differ.
        let n0 = data.train.filter { $0.term == 0 }.reduce(0) { $0 + $1.targetCount }
        let n1 = data.train.filter { $0.term == 1 }.reduce(0) { $0 + $1.targetCount }
        #expect(n1 > 2 * n0)
        let tokenMean = (means[0] * Double(n0) + means[1] * Double(n1)) / Double(n0 + n1)
        #expect(abs(tokenMean - want) > 1e-3)
        _ = m
    }
}

/// What the objective builders make of harvest rows: SCOTT grades only the wrong answer, 2504.16056 puts the wrong
/// rationale in the prompt, and a wrong CoT path is never a rationale.
@Suite struct ObjectiveDataTests {
    @Test func counterfactualForms() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-cf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/t.gguf")
        let (_, tok) = try ModelFiles.load(dir + "/t.gguf")
        let row = #"{"id": "q1", "question": "2 or 3, which is odd?", "choices": [{"label": "A", "text": "2"}, {"label": "B", "text": "3"}], "answer": "B", "wrong_answer": "A", "wrong_text": "2", "explanation": "even numbers are odd 😅"}"#
        try (row + "\n").write(toFile: dir + "/cf.jsonl", atomically: true, encoding: .utf8)
        var s = ObjectiveData.Settings(kind: .counterfactual)
        s.counterfactualForm = .scott
        let scott = try ObjectiveData.build(files: [dir + "/cf.jsonl"], settings: s)
        #expect(scott.items.count == 1 && scott.items[0].term == 3 && scott.termWeights == [0, 0, 0, 1])
        let data = try TrainingData.load(objective: scott, tokenizer: TrainingTokenizer(tokenizer: tok, maxSequence: 256),
                                         validationFraction: 0, seed: 0)
        let e = try #require(data.train.first)
        let graded = e.tokens.indices.filter { e.isTarget[$0] }.map { Int(e.tokens[$0]) }
        // Only " (A) 2." and the end-of-turn token carry a loss, not the rationale before it.
        #expect(tok.decode(graded) == " (A) 2.<|im_end|>")
        s.counterfactualForm = .input
        let input = try ObjectiveData.build(files: [dir + "/cf.jsonl"], settings: s)
        let msgs = try #require(input.items.first).conversation.messages
        #expect(msgs[0].content.hasSuffix("Rationale: even numbers are odd 😅") && msgs[1].content == "[counterfactual] So the answer is (A) 2.")
    }
}
