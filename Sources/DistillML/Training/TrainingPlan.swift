import DistillData
import Foundation

/// Which examples go into which micro-batch, for every epoch, fixed by the seed before training starts.
///
/// Because the whole schedule is a pure function of (examples, seed, batch settings), the data position of a run is
/// just its step number: a resumed run rebuilds the same plan and continues at the next micro-batch.
///
/// Padding (`pack == false`): a micro-batch is `batch` examples, one per row, padded to the longest.
/// Packing: rows of `maxSequence` tokens filled with whole examples in order (block-diagonal segments, so packed
/// items never attend to each other), `batch` rows per micro-batch.
public struct TrainingPlan: Sendable {
    /// One micro-batch: rows of example indices.
    public typealias MicroBatch = [[Int]]

    public let batch: Int
    public let gradientAccumulation: Int
    public let maxSequence: Int
    public let pack: Bool
    public let epochs: Int
    /// Micro-batches of each epoch, in order.
    public let epochBatches: [[MicroBatch]]

    public init(examples: [TrainingExample], epochs: Int, batch: Int, gradientAccumulation: Int, maxSequence: Int,
                pack: Bool, seed: UInt64) {
        self.batch = batch
        self.gradientAccumulation = gradientAccumulation
        self.maxSequence = maxSequence
        self.pack = pack
        self.epochs = epochs
        let lengths = examples.map(\.tokens.count)
        epochBatches = (0..<epochs).map { epoch in
            let order = Self.shuffled(examples.count, seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            return Self.microBatches(order: order, lengths: lengths, batch: batch, maxSequence: maxSequence, pack: pack)
        }
    }

    /// Micro-batches in the given order, without shuffling (validation).
    public static func microBatches(order: [Int], lengths: [Int], batch: Int, maxSequence: Int, pack: Bool) -> [MicroBatch] {
        var rows: [[Int]] = []
        if pack {
            var row: [Int] = []
            var used = 0
            for i in order {
                if used + lengths[i] > maxSequence, !row.isEmpty {
                    rows.append(row)
                    row = []
                    used = 0
                }
                row.append(i)
                used += lengths[i]
            }
            if !row.isEmpty { rows.append(row) }
        } else {
            rows = order.map { [$0] }
        }
        return stride(from: 0, to: rows.count, by: batch).map { Array(rows[$0..<min($0 + batch, rows.count)]) }
    }

    /// A Fisher–Yates permutation of 0..<n from SplitMix64 (fixed on every platform and Swift version).
    public static func shuffled(_ n: Int, seed: UInt64) -> [Int] {
        var order = Array(0..<n)
        var rng = SplitMix64(seed: seed)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.int(0...i)) }
        }
        return order
    }

    /// Optimiser steps per epoch (the last one may hold fewer micro-batches).
    public var stepsPerEpoch: Int { ((epochBatches.first?.count ?? 0) + gradientAccumulation - 1) / gradientAccumulation }

    public var totalSteps: Int {
        epochBatches.reduce(0) { $0 + ($1.count + gradientAccumulation - 1) / gradientAccumulation }
    }

    /// The micro-batches of optimiser step `step` (0-based) and the epoch they belong to.
    public func microBatches(step: Int) -> (epoch: Int, batches: [MicroBatch]) {
        var s = step
        for (epoch, batches) in epochBatches.enumerated() {
            let n = (batches.count + gradientAccumulation - 1) / gradientAccumulation
            if s < n {
                let lo = s * gradientAccumulation
                return (epoch, Array(batches[lo..<min(lo + gradientAccumulation, batches.count)]))
            }
            s -= n
        }
        return (epochs, [])
    }

    /// The `TrainingBatch` for a micro-batch: padding rows to the longest row, targets only on assistant tokens.
    public static func batch(_ rows: MicroBatch, examples: [TrainingExample], padID: Int32) -> TrainingBatch {
        let T = max(1, rows.map { $0.reduce(0) { $0 + examples[$1].tokens.count } }.max() ?? 1)
        let B = rows.count
        var tokens = [Int32](repeating: padID, count: B * T)
        var targets = [Int32](repeating: TrainingBatch.ignore, count: B * T)
        var segments = [Int32](repeating: 0, count: B * T)
        for (b, row) in rows.enumerated() {
            var t = b * T
            for (s, i) in row.enumerated() {
                let e = examples[i]
                for j in e.tokens.indices {
                    tokens[t + j] = e.tokens[j]
                    segments[t + j] = Int32(s)
                    if j + 1 < e.tokens.count, e.isTarget[j + 1] { targets[t + j] = e.tokens[j + 1] }
                }
                t += e.tokens.count
            }
            // Padding is a segment of its own, so real tokens never attend to it (and it has no targets).
            for j in t..<(b + 1) * T { segments[j] = Int32(row.count) }
        }
        var batch = TrainingBatch(B: B, T: T, tokens: tokens, targets: targets, segments: segments)
        if rows.contains(where: { $0.contains { examples[$0].teacherTopK != nil } }) {
            var topK: [Int: TeacherTopK] = [:]
            for (b, row) in rows.enumerated() {
                var t = b * T
                for i in row {
                    for (j, entry) in examples[i].teacherTopK ?? [:] where j >= 1 && j < examples[i].tokens.count {
                        topK[t + j - 1] = entry
                    }
                    t += examples[i].tokens.count
                }
            }
            batch.teacherTopK = topK
        }
        if rows.contains(where: { $0.contains { examples[$0].weight != 1 || examples[$0].term != 0 } }) {
            // Objective hook: per-position weights and terms for DistillationModel.
            var weights = [Float](repeating: 0, count: B * T), terms = [Int32](repeating: 0, count: B * T)
            for (b, row) in rows.enumerated() {
                var t = b * T
                for i in row {
                    for j in examples[i].tokens.indices {
                        weights[t + j] = examples[i].weight
                        terms[t + j] = Int32(examples[i].term)
                    }
                    t += examples[i].tokens.count
                }
            }
            batch.weights = weights
            batch.terms = terms
        }
        return batch
    }
}
