import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// AdamW, the schedules and clipping against torch.optim.AdamW + transformers' schedulers + clip_grad_norm_
/// (fixture by scripts/fixtures/make_adamw_fixture.py), and the loop's own guarantees on a bigram model.
@Suite struct TrainingOptimizerTests {
    struct Fixture: Decodable {
        struct Step: Decodable { var lr: Double; var norm: Double; var w: [Float]; var b: [Float] }
        struct Run: Decodable {
            var schedule: String; var lr: Double; var weight_decay: Double; var clip: Double; var warmup: Int; var total: Int
            var steps: [Step]
        }
        var w0, b0, tw, tb, cw, cb: [Float]
        var runs: [Run]
    }

    @Test func tenAdamWStepsFollowPyTorch() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ModelFixtures.fixturesDir + "/training/adamw.json"))
        let f = try JSONDecoder().decode(Fixture.self, from: data)
        #expect(f.runs.count == 3)
        for run in f.runs {
            let tensors = [TrainableTensor(name: "w", shape: [3, 4], offset: 0), TrainableTensor(name: "b", shape: [4], offset: 12)]
            var p = f.w0 + f.b0
            let t = f.tw + f.tb, c = f.cw + f.cb
            var g = [Float](repeating: 0, count: 16)
            let kind = try #require(LearningRateSchedule.Kind(rawValue: run.schedule))
            let schedule = LearningRateSchedule(peak: run.lr, warmupSteps: run.warmup, totalSteps: run.total, kind: kind)
            let opt = AdamW(parameterCount: 16, settings: .init(weightDecay: Float(run.weight_decay)))
            for (s, ref) in run.steps.enumerated() {
                for i in 0..<16 { g[i] = (p[i] - t[i]) * c[i] }
                let lr = schedule.rate(at: s)
                #expect(abs(lr - ref.lr) <= 1e-12 * max(1, ref.lr), "\(run.schedule) step \(s) lr")
                p.withUnsafeMutableBufferPointer { pp in
                    g.withUnsafeMutableBufferPointer { gg in
                        let norm = AdamW.clip(gg, maxNorm: run.clip)
                        #expect(abs(norm - ref.norm) <= 1e-5 * ref.norm)
                        opt.update(tensors, parameters: pp, gradients: gg, lr: Float(lr))
                    }
                }
                let want = ref.w + ref.b
                let worst = zip(p, want).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-6, "\(run.schedule) step \(s): max |Δθ| \(worst)")
            }
        }
    }

    static func toyData(_ n: Int, seed: UInt64 = 3) -> [TrainingExample] {
        var rng = SplitMixForTests(seed)
        return (0..<n).map { i in
            let len = 4 + rng.next() % 9
            let tokens = (0..<len).map { _ in Int32(rng.next() % 12) }
            let isTarget = (0..<len).map { $0 >= len / 2 }
            return TrainingExample(tokens: tokens, isTarget: isTarget, file: "toy", line: i + 1)
        }
    }

    static func train(_ examples: [TrainingExample], steps stop: Int? = nil, from checkpoint: TrainingCheckpoint? = nil,
                      pack: Bool = false, accum: Int = 2) throws -> (Trainer, [Trainer.StepResult]) {
        let model = BigramModel(vocabularySize: 12)
        let plan = TrainingPlan(examples: examples, epochs: 3, batch: 3, gradientAccumulation: accum, maxSequence: 32,
                                pack: pack, seed: 7)
        let settings = Trainer.Settings(schedule: .init(peak: 0.05, warmupSteps: 2, totalSteps: plan.totalSteps, kind: .cosine),
                                        optimizer: .init(weightDecay: 0.01), clip: 1.0, padID: 0)
        let trainer = Trainer(model: model, plan: plan, examples: examples, validation: [], settings: settings)
        if let checkpoint { try trainer.restore(checkpoint, path: "ckpt", fingerprint: "f") }
        var results: [Trainer.StepResult] = []
        while !trainer.isFinished, trainer.step < (stop ?? .max) { results.append(try trainer.runStep()) }
        return (trainer, results)
    }

    @Test func sameSeedSameWeightsAndCheckpointResumeIsBitwise() throws {
        let data = Self.toyData(40)
        let (a, ra) = try Self.train(data)
        let (b, _) = try Self.train(data)
        #expect(Array(a.model.parameters) == Array(b.model.parameters))
        #expect(ra.count == a.totalSteps && ra.first!.loss > ra.last!.loss)

        // Stop at step 5, write + read the checkpoint file, continue in a fresh trainer.
        let (half, _) = try Self.train(data, steps: 5)
        let path = ModelFixtures.temporaryPath("resume.ckpt")
        try half.checkpoint(fingerprint: "f").write(to: path)
        let (resumed, _) = try Self.train(data, from: try TrainingCheckpoint.read(path))
        #expect(resumed.step == a.step)
        #expect(Array(resumed.model.parameters).map(\.bitPattern) == Array(a.model.parameters).map(\.bitPattern))
        #expect(resumed.optimizer.v.map(\.bitPattern) == a.optimizer.v.map(\.bitPattern))
    }

    @Test func accumulationNormalisesOverTheWholeStep() throws {
        // One step of 2 micro-batches equals one step of the same rows in one micro-batch (targets counted over both).
        let data = Self.toyData(6)
        let m1 = BigramModel(vocabularySize: 12), m2 = BigramModel(vocabularySize: 12)
        let rows = [[0], [1], [2], [3], [4], [5]]
        m1.zeroGradients()
        let whole = TrainingPlan.batch(rows, examples: data, padID: 0)
        _ = try m1.accumulateGradients(whole, lossScale: 1 / Float(whole.targetCount))
        m2.zeroGradients()
        let parts = [TrainingPlan.batch(Array(rows[..<2]), examples: data, padID: 0),
                     TrainingPlan.batch(Array(rows[2...]), examples: data, padID: 0)]
        let n = parts.reduce(0) { $0 + $1.targetCount }
        #expect(n == whole.targetCount)
        for p in parts { _ = try m2.accumulateGradients(p, lossScale: 1 / Float(n)) }
        let diff = zip(Array(m1.gradients), Array(m2.gradients)).map { abs($0 - $1) }.max() ?? 1
        #expect(diff < 1e-6)
    }

    @Test func corruptOrForeignCheckpointsAreRefused() throws {
        let (t, _) = try Self.train(Self.toyData(10), steps: 1)
        let path = ModelFixtures.temporaryPath("bad.ckpt")
        try t.checkpoint(fingerprint: "f").write(to: path)
        #expect(throws: DataError.self) { _ = try Self.train(Self.toyData(10), from: try { var c = try TrainingCheckpoint.read(path); c.header.fingerprint = "other"; return c }()) }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes.removeLast(4)
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: DataError.self) { _ = try TrainingCheckpoint.read(path) }
    }

    @Test func fullDiskLeavesThePreviousCheckpoint() throws {
        // /dev/full answers every write with ENOSPC: writing through it must fail and leave no file behind.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let path = ModelFixtures.temporaryPath("keep.ckpt")
        let (t, _) = try Self.train(Self.toyData(10), steps: 1)
        try t.checkpoint(fingerprint: "f").write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: DataError.self) {
            try AtomicFile.write(to: path) { _ in
                let full = open("/dev/full", O_WRONLY)
                defer { close(full) }
                try AtomicFile.writeAll(full, Data(count: 4096), path: path)
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try TrainingCheckpoint.read(path).header.step == 1)
    }
}

/// AdamW and the global norm run in pieces of 2¹⁶ values on every worker, 16 lanes at a time: the update must give,
/// bit for bit, the formula applied one value at a time (sizes that end mid-vector and mid-piece, a decayed matrix
/// beside undecayed vectors), and the norm the exact sum of squares.
@Suite struct AdamWVectorTests {
    @Test func piecesAndLanesGiveTheScalarFormulasBits() {
        let shapes = [[3, 37], [70_001], [17], [2, 65_536]]
        var offset = 0
        let tensors = shapes.map { shape -> TrainableTensor in
            defer { offset += shape.reduce(1, *) }
            return TrainableTensor(name: "t\(offset)", shape: shape, offset: offset)
        }
        let n = offset
        var rng = SplitMixForTests(7)
        func random() -> Float { Float(rng.next() % 2_000_001) / 1_000_000 - 1 }
        let p0 = (0..<n).map { _ in random() }
        let grads = (0..<3).map { _ in (0..<n).map { _ in random() * 1e-2 } }
        var fast = p0
        let adamw = AdamW(parameterCount: n, settings: AdamW.Settings(weightDecay: 0.1))
        for var g in grads {
            fast.withUnsafeMutableBufferPointer { pp in
                g.withUnsafeMutableBufferPointer { gg in adamw.update(tensors, parameters: pp, gradients: gg, lr: 1e-3) }
            }
        }
        // The formula, one value at a time (torch.optim.AdamW's order of operations).
        var p = p0, m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        for (k, g) in grads.enumerated() {
            let t = Double(k + 1), lr: Float = 1e-3
            // AdamW raises the Float betas to the step in Double, as torch does with its Python floats.
            let bc1 = 1 - Float(pow(Double(Float(0.9)), t)), bc2Sqrt = Float(sqrt(1 - pow(Double(Float(0.999)), t)))
            for tensor in tensors {
                let decay: Float = tensor.shape.count >= 2 ? 1 - lr * 0.1 : 1
                for i in tensor.offset..<(tensor.offset + tensor.count) {
                    m[i] = 0.9 * m[i] + (1 - 0.9) * g[i]
                    v[i] = 0.999 * v[i] + (1 - 0.999) * g[i] * g[i]
                    p[i] = p[i] * decay - (lr / bc1) * (m[i] / (v[i].squareRoot() / bc2Sqrt + 1e-8))
                }
            }
        }
        // Compared here, not inside #expect, which would print every value of a failing comparison.
        func firstDifference(_ x: [Float], _ y: [Float]) -> Int? {
            x.indices.first { x[$0].bitPattern != y[$0].bitPattern }
        }
        let (dp, dm, dv) = (firstDifference(fast, p), firstDifference(adamw.m, m), firstDifference(adamw.v, v))
        #expect(dp == nil && dm == nil && dv == nil, "first differing index: parameters \(String(describing: dp)), m \(String(describing: dm)), v \(String(describing: dv))")
        #expect(firstDifference(p, p0) != nil)

        var g = grads[0]
        let norm = g.withUnsafeMutableBufferPointer { AdamW.globalNorm($0) }
        let exact = grads[0].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(norm - exact) <= 1e-12 * exact)
    }
}

/// A local SplitMix64 for test data (independent of the code under test).
struct SplitMixForTests {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) >> 1)
    }
}
