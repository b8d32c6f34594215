import DistillData
import Foundation

/// The teacher's next-token distributions over a training set, computed once and kept top-k compressed, so several
/// students (and every epoch) train by forward KL without the teacher in memory or its forward pass in each step.
///
/// For every target token j of every example (`isTarget[j]`, j ≥ 1) it keeps the teacher's k most likely ids at
/// position j − 1 with their log-probabilities (log-softmax of the fp32 logits, in Double, stored as Float) and the
/// leftover mass 1 − Σ_K p summed directly over the other V − k ids, so forward KL with the tail bucket
/// (`TopKDistillation.tail`: a (k+1)-way KL(P̄‖Q̄)) is exact for the teacher's top-k and equals the dense KL(P‖Q)
/// when k = V. Reverse KL, JS and skew KL need all of P and are not served from a cache.
///
/// Examples are keyed by the SHA-256 of their tokens and target mask, so the cache does not depend on the
/// validation split, the shuffle, packing or the order of files. Its `Fingerprint` (teacher by content, data files by
/// content, --max-seq, k and the tokenised rows) is checked on reuse; a difference is refused by name.
public struct TeacherLogitCache: Sendable {
    public static let version = 1

    /// What decides the cache's content.
    public struct Fingerprint: Sendable, Equatable {
        /// The teacher's path (for messages) and content hash ("" when a run reads the cache without naming a teacher).
        public var teacher: String
        public var teacherSHA256: String
        /// Each data file's path (for messages) and SHA-256, in the order given.
        public var data: [(path: String, sha256: String)]
        public var maxSequence: Int
        public var k: Int
        /// Distinct tokenised examples, and the SHA-256 of their sorted keys.
        public var rows: Int
        public var rowsSHA256: String

        public init(teacher: String, teacherSHA256: String, data: [(path: String, sha256: String)], maxSequence: Int, k: Int,
                    rows: Int, rowsSHA256: String) {
            self.teacher = teacher
            self.teacherSHA256 = teacherSHA256
            self.data = data
            self.maxSequence = maxSequence
            self.k = k
            self.rows = rows
            self.rowsSHA256 = rowsSHA256
        }

        public static func == (a: Fingerprint, b: Fingerprint) -> Bool { a.differences(from: b).isEmpty }

        /// What differs from `new`, one phrase each (`k: 64 → 32`); the teacher is compared only when both name one.
        public func differences(from new: Fingerprint) -> [String] {
            var out: [String] = []
            if !teacherSHA256.isEmpty, !new.teacherSHA256.isEmpty, teacherSHA256 != new.teacherSHA256 {
                out.append("teacher: \(teacher) (sha256 \(teacherSHA256.prefix(12))…) → \(new.teacher) (sha256 \(new.teacherSHA256.prefix(12))…)")
            }
            if data.map(\.sha256) != new.data.map(\.sha256) {
                let old = data.map { "\($0.path) (\($0.sha256.prefix(12))…)" }.joined(separator: ", ")
                let now = new.data.map { "\($0.path) (\($0.sha256.prefix(12))…)" }.joined(separator: ", ")
                out.append("data: \(old) → \(now)")
            }
            if maxSequence != new.maxSequence { out.append("--max-seq: \(maxSequence) → \(new.maxSequence)") }
            if k != new.k { out.append("k (--teacher-topk): \(k) → \(new.k)") }
            if rows != new.rows || rowsSHA256 != new.rowsSHA256 {
                out.append("tokenised rows: \(rows) (\(rowsSHA256.prefix(12))…) → \(new.rows) (\(new.rowsSHA256.prefix(12))…): "
                    + "another tokenizer, objective or --drop-long")
            }
            return out
        }
    }

    public var fingerprint: Fingerprint
    /// Per example key: token index j → the teacher's top-k for token j.
    public var entries: [Data: [Int: TeacherTopK]]

    public init(fingerprint: Fingerprint, entries: [Data: [Int: TeacherTopK]]) {
        self.fingerprint = fingerprint
        self.entries = entries
    }

    /// An example's key: SHA-256 of its tokens (Int32 little-endian) and target mask.
    public static func key(_ e: TrainingExample) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(e.tokens.count * 5)
        for t in e.tokens { withUnsafeBytes(of: t.littleEndian) { bytes += $0 } }
        for b in e.isTarget { bytes.append(b ? 1 : 0) }
        return Data(SHA256.hash(Data(bytes)))
    }

    /// The distinct examples' count and the SHA-256 of their sorted keys (the "rows" part of the fingerprint).
    public static func rowsDigest(_ examples: [TrainingExample]) -> (rows: Int, sha256: String) {
        let keys = Set(examples.map(key)).sorted { $0.lexicographicallyPrecedes($1) }
        return (keys.count, SHA256.hex(keys.reduce(into: Data()) { $0.append($1) }))
    }

    /// Runs the teacher over each distinct example (`perForward` at a time, one KV cache each) and keeps its top-k
    /// at every target position. `progress(done, total)` is called after each forward pass.
    public static func compute(teacher: LlamaModel, examples: [TrainingExample], k: Int, fingerprint: Fingerprint,
                               perForward: Int = 4, progress: (Int, Int) -> Void = { _, _ in }) throws -> TeacherLogitCache {
        let V = teacher.config.vocabSize
        guard (1...V).contains(k) else {
            throw DistillMLError(file: "<train>", "--teacher-topk \(k) must be within 1…\(V) (the vocabulary)")
        }
        var seen = Set<Data>()
        var distinct: [(key: Data, example: TrainingExample)] = []
        for e in examples {
            let key = key(e)
            if seen.insert(key).inserted { distinct.append((key, e)) }
        }
        var entries: [Data: [Int: TeacherTopK]] = [:]
        var done = 0
        while done < distinct.count {
            let group = Array(distinct[done..<min(distinct.count, done + max(1, perForward))])
            let chunks = group.enumerated().map { LlamaModel.Chunk(slot: $0.offset, tokens: $0.element.example.tokens.map(Int.init)) }
            let capacity = max(1, group.map(\.example.tokens.count).max() ?? 1)
            try teacher.forward(chunks, cache: KVCache(config: teacher.config, slots: chunks.count, capacity: capacity), logits: .all)
            // Rows of the forward pass, in chunk order: row r is position t of its example, predicting token t + 1.
            var wanted: [(row: Int, slot: Int, token: Int)] = []
            var r = 0
            for (slot, g) in group.enumerated() {
                let e = g.example
                for t in e.tokens.indices {
                    if t + 1 < e.tokens.count, e.isTarget[t + 1] { wanted.append((r, slot, t + 1)) }
                    r += 1
                }
            }
            var found = [TeacherTopK](repeating: TeacherTopK(ids: [], logprobs: []), count: wanted.count)
            found.withUnsafeMutableBufferPointer { out in
                guard let base = out.baseAddress else { return }
                Parallel.forEach(wanted.count) { i in
                    base[i] = topK(teacher.logits(wanted[i].row), k: k)
                }
            }
            for (i, w) in wanted.enumerated() { entries[group[w.slot].key, default: [:]][w.token] = found[i] }
            for g in group where entries[g.key] == nil { entries[g.key] = [:] }
            done += group.count
            progress(done, distinct.count)
        }
        return TeacherLogitCache(fingerprint: fingerprint, entries: entries)
    }

    /// The k largest logits of a row as log-softmax values (ties: lower id first) and the leftover mass, in Double.
    public static func topK(_ logits: UnsafeBufferPointer<Float>, k: Int) -> TeacherTopK {
        let V = logits.count
        // Insertion into a sorted list of the best k so far: most logits lose to the k-th at once.
        var ids = [Int](), values = [Float]()
        ids.reserveCapacity(k + 1)
        values.reserveCapacity(k + 1)
        var mx = -Double.infinity
        for v in 0..<V {
            let x = logits[v]
            mx = max(mx, Double(x))
            if ids.count == k, let last = values.last, !(x > last) { continue }
            var i = ids.count
            while i > 0, x > values[i - 1] { i -= 1 }
            ids.insert(v, at: i)
            values.insert(x, at: i)
            if ids.count > k { ids.removeLast(); values.removeLast() }
        }
        var sum = 0.0
        for v in 0..<V { sum += exp(Double(logits[v]) - mx) }
        let logZ = mx + log(sum)
        // The tail summed over the ids outside K (1 − Σ_K p would cancel when K holds nearly all the mass).
        let sortedK = ids.sorted()
        var tail = 0.0, j = 0
        for v in 0..<V {
            if j < sortedK.count, sortedK[j] == v { j += 1; continue }
            tail += exp(Double(logits[v]) - logZ)
        }
        return TeacherTopK(ids: ids.map { Int32($0) }, logprobs: values.map { Float(Double($0) - logZ) }, tail: Float(tail))
    }

    /// The examples with their top-k attached (`teacherTopK`, read by the `tail` forward KL); an example the cache
    /// does not hold is an error naming its file and line (the fingerprint check makes this a damaged cache).
    public func attach(to examples: [TrainingExample], cacheFile: String) throws -> [TrainingExample] {
        try examples.map { e in
            guard let entry = entries[Self.key(e)] else {
                throw DataError(file: cacheFile, "holds no teacher logits for \(e.file):\(e.line); delete the cache folder to recompute it")
            }
            var e = e
            e.teacherTopK = entry
            return e
        }
    }
}
