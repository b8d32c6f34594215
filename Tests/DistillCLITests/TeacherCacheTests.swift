import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `distill train --loss kl-forward --teacher-cache DIR`: the teacher's top-k per training token computed once,
/// reused by a second student without the teacher, refused when made for other inputs; its loss is the dense forward
/// KL where the top-k holds the whole vocabulary, and the (k+1)-bucket KL computed from the dense logits otherwise.
@Suite struct TeacherCacheTests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-teacher-cache-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/student.gguf")
        try TinyModel.writeGGUF(to: dir + "/teacher.gguf", seed: 7)
        try TinyModel.writeGGUF(to: dir + "/other-teacher.gguf", seed: 9)
        let rows = (0..<12).map { #"{"instruction": "Say \#($0) 🙂", "input": "", "output": "the \#($0) the end 好"}"# }
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/data.jsonl", atomically: true, encoding: .utf8)
    }

    func train(_ out: String, _ extra: [String], loss: String = "kl-forward") async -> Int32 {
        await DistillCLI.main(["train", "--model", dir + "/student.gguf", "--data", dir + "/data.jsonl", "--out", dir + "/" + out,
                               "--loss", loss, "--alpha", "0.5", "--temperature", "2", "--epochs", "2", "--batch", "4",
                               "--max-seq", "64", "--full", "--lr", "1e-3", "--val-split", "0", "--threads", "1", "--export", "gguf-f32"] + extra)
    }

    /// (loss, loss_topk_tail or loss_kl_forward) of each step.
    func steps(_ out: String) throws -> [(loss: Double, kd: Double)] {
        let text = try String(contentsOfFile: dir + "/" + out + "/train-log.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line -> (Double, Double)? in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let loss = o["loss"] as? Double else { return nil }
            return (loss, (o["loss_topk_tail"] ?? o["loss_kl_forward"]) as? Double ?? .nan)
        }
    }

    @Test func aSecondStudentTrainsFromTheCacheWithoutTheTeacher() async throws {
        let cache = dir + "/cache"
        #expect(await train("a", ["--teacher-model", dir + "/teacher.gguf", "--teacher-cache", cache, "--teacher-topk", "16"]) == 0)
        let bin = try Data(contentsOf: URL(fileURLWithPath: cache + "/topk.bin"))
        // The teacher is gone: the second student (another seed and learning rate) reads the cache alone.
        try FileManager.default.moveItem(atPath: dir + "/teacher.gguf", toPath: dir + "/teacher-moved.gguf")
        #expect(await train("b", ["--teacher-cache", cache, "--teacher-topk", "16", "--seed", "3", "--lr", "5e-4"]) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: cache + "/topk.bin")) == bin, "reused, not rewritten")
        let a = try steps("a"), b = try steps("b")
        #expect(a.count == 6 && b.count == 6 && a.allSatisfy { $0.kd.isFinite } && b.allSatisfy { $0.kd.isFinite })
        // The same first batch of a fresh student (seed decides the order): same loss as the first run.
        #expect(await train("a2", ["--teacher-cache", cache, "--teacher-topk", "16"]) == 0)
        // Same cache, same seed: the same run. Within 1e-5, not bit for bit: other suites training in this process
        // at the same time may change the process-wide kernel and BLAS thread count, and so the summation order
        // (bitwise reproducibility is checked across real processes by TrainCrashTests).
        let a2 = try steps("a2").map(\.loss)
        #expect(a2.count == a.count && zip(a2, a.map(\.loss)).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) },
                "same cache, same seed: the same run")

        // Made for other inputs: refused (exit 1), naming what differs.
        #expect(await train("c", ["--teacher-model", dir + "/other-teacher.gguf", "--teacher-cache", cache, "--teacher-topk", "16"]) == 1)
        #expect(await train("d", ["--teacher-cache", cache, "--teacher-topk", "8"]) == 1)
        #expect(await train("e", ["--teacher-cache", cache, "--teacher-topk", "16", "--max-seq", "48"]) == 1)
        // Reverse KL needs the whole distribution; an empty folder needs the teacher once.
        #expect(await train("f", ["--teacher-cache", cache], loss: "kl-reverse") == 64)
        #expect(await train("g", ["--teacher-cache", dir + "/empty-cache"]) == 64)
        // A damaged entries file is caught by its hash.
        var damaged = bin
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: cache + "/topk.bin"))
        #expect(await train("h", ["--teacher-cache", cache, "--teacher-topk", "16"]) == 1)
    }

    @Test func withTheWholeVocabularyTheCachedLossIsTheDenseForwardKL() async throws {
        // k = V (261): the tail bucket is empty and the (k+1)-way KL is KL(P‖Q) over the vocabulary.
        #expect(await train("dense", ["--teacher-model", dir + "/teacher.gguf"]) == 0)
        #expect(await train("cached", ["--teacher-model", dir + "/teacher.gguf", "--teacher-cache", dir + "/full", "--teacher-topk", "261"]) == 0)
        let dense = try steps("dense"), cached = try steps("cached")
        #expect(dense.count == cached.count && !dense.isEmpty)
        for (d, c) in zip(dense, cached) {
            #expect(abs(d.loss - c.loss) < 1e-4 * max(1, abs(d.loss)), "loss \(d.loss) vs \(c.loss)")
            #expect(abs(d.kd - c.kd) < 1e-4 * max(1, abs(d.kd)), "KD \(d.kd) vs \(c.kd)")
        }
    }

    @Test func theCachedTopKIsTheDenseTopKWithItsTail() throws {
        var rng = SplitMix64(seed: 11)
        let V = 300
        func uniform(_ width: Double) -> Float { Float((Double(rng.next() >> 11) / Double(1 << 53) - 0.5) * width) }
        let teacher = (0..<V).map { _ in uniform(8) }, student = (0..<V).map { _ in uniform(6) }
        func logSoftmax(_ x: [Float]) -> [Double] {
            let m = Double(x.max() ?? 0)
            let logZ = m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
            return x.map { Double($0) - logZ }
        }
        let logP = logSoftmax(teacher), logQ = logSoftmax(student)
        for k in [1, 16, 64, V] {
            let entry = teacher.withUnsafeBufferPointer { TeacherLogitCache.topK($0, k: k) }
            // The k largest by a full sort (ties by id), their log-probs, and the rest as the tail.
            let order = (0..<V).sorted { teacher[$0] != teacher[$1] ? teacher[$0] > teacher[$1] : $0 < $1 }
            #expect(entry.ids.map(Int.init) == Array(order.prefix(k)), "k \(k)")
            for (i, id) in entry.ids.enumerated() { #expect(abs(Double(entry.logprobs[i]) - logP[Int(id)]) < 1e-6) }
            let tail = order.dropFirst(k).reduce(0.0) { $0 + exp(logP[$1]) }
            #expect(abs(Double(entry.tail ?? -1) - tail) < 1e-7 * max(1, tail))
            // The loss the student trains on: KL over the k ids and one tail bucket, from the dense distributions.
            let inK = Set(order.prefix(k))
            var want = 0.0
            for v in inK { want += exp(logP[v]) * (logP[v] - logQ[v]) }
            let qTail = (0..<V).filter { !inK.contains($0) }.reduce(0.0) { $0 + exp(logQ[$1]) }
            if tail > 0 { want += tail * (log(tail) - log(qTail)) }
            var grad = [Float](repeating: 0, count: V)
            let got = student.withUnsafeBufferPointer { s in
                grad.withUnsafeMutableBufferPointer {
                    TopKDistillation.tail.loss(student: s.baseAddress!, V: V, ids: entry.ids.map(Int.init), logprobs: entry.logprobs,
                                               tail: entry.tail.map(Double.init), gradient: $0.baseAddress!)
                }
            }
            #expect(abs(got - want) < 1e-6, "k \(k): \(got) vs \(want)")
            if k == V {
                var dense = [Float](repeating: 0, count: V)
                let kl = student.withUnsafeBufferPointer { s in teacher.withUnsafeBufferPointer { t in
                    dense.withUnsafeMutableBufferPointer {
                        Divergence.forwardKL.loss(student: s.baseAddress!, teacher: t.baseAddress!, V: V, gradient: $0.baseAddress!)
                    }
                } }
                #expect(abs(got - kl) < 1e-6)
                #expect(zip(grad, dense).allSatisfy { abs($0 - $1) < 1e-6 })
            }
        }
    }

    @Test func aDifferentFingerprintNamesWhatDiffers() {
        let a = TeacherLogitCache.Fingerprint(teacher: "t.gguf", teacherSHA256: "aaaa", data: [("d.jsonl", "1111")], maxSequence: 256,
                                              k: 64, rows: 10, rowsSHA256: "r1")
        var b = a
        #expect(a.differences(from: b).isEmpty)
        b.teacherSHA256 = "bbbb"; b.teacher = "u.gguf"; b.k = 32; b.maxSequence = 128
        let d = a.differences(from: b)
        #expect(d.count == 3 && d[0].hasPrefix("teacher: t.gguf") && d.contains("--max-seq: 256 → 128") && d.contains("k (--teacher-topk): 64 → 32"))
        // A run that names no teacher reads the cache without checking it; the data still counts.
        b = a
        b.teacherSHA256 = ""
        b.data = [("d.jsonl", "2222")]
        #expect(a.differences(from: b).count == 1 && a.differences(from: b)[0].hasPrefix("data: d.jsonl"))
    }
}
