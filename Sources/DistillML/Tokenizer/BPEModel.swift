/// Byte-level BPE merging inside one pre-tokenized word, over token ids rather than strings.
///
/// A word starts as one symbol per byte (the byte's vocabulary id); the adjacent pair with the lowest
/// merge rank is merged, leftmost first on ties, until no pair has a rank. This is the order HF
/// `tokenizers` (`Word::merge_all`, a heap on (rank, position)) and llama.cpp produce.
struct BPEModel: Sendable {
    /// `(left << 32 | right)` → `(rank << 32 | merged id)`.
    private let merges: [UInt64: UInt64]
    /// The vocabulary id of each byte's single-character token, or -1 when the vocabulary lacks it.
    private let byteTokenID: [Int32]
    /// Token id for a byte missing from the vocabulary; such bytes are dropped when this is nil.
    private let unknownID: Int32?
    /// Llama 3: a word that is itself in the vocabulary is emitted whole, without merging.
    private let ignoreMerges: Bool
    private let vocabulary: [String: Int32]

    /// Words at most this many bytes merge with a linear scan; longer ones (a page of CJK without
    /// spaces, a long run of `=`) use the heap, so cost stays O(n log n).
    static let linearLimit = 48

    /// Builds the merge table. Merges whose parts or result are not in the vocabulary are skipped
    /// (HF refuses such files; skipping keeps hand-edited vocabularies usable).
    init(vocabulary: [String: Int32], merges mergePairs: [(String, String)], unknownID: Int32?, ignoreMerges: Bool) {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergePairs.count)
        for (rank, (a, b)) in mergePairs.enumerated() {
            guard let l = vocabulary[a], let r = vocabulary[b], let m = vocabulary[a + b] else { continue }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(m)) }
        }
        self.merges = table
        self.byteTokenID = ByteLevel.characterOfByte.map { vocabulary[String($0)] ?? -1 }
        self.unknownID = unknownID
        self.ignoreMerges = ignoreMerges
        self.vocabulary = vocabulary
    }

    @inline(__always)
    private func lookup(_ l: Int32, _ r: Int32) -> (rank: UInt32, merged: Int32)? {
        guard let e = merges[UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))] else { return nil }
        return (UInt32(truncatingIfNeeded: e >> 32), Int32(truncatingIfNeeded: e & 0xFFFF_FFFF))
    }

    /// Appends the ids of one word (its raw UTF-8 bytes) to `out`. Words longer than `linearLimit`
    /// bytes merge through the heap (a parameter so tests can run both paths on the same words).
    func encodeWord(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int32], linearLimit: Int = BPEModel.linearLimit) {
        if ignoreMerges, let whole = vocabulary[ByteLevel.encode(bytes)] {
            out.append(whole)
            return
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteTokenID[Int(b)]
            if id >= 0 {
                symbols.append(id)
            } else if let unknownID {
                symbols.append(unknownID)
            }
        }
        if symbols.count <= linearLimit {
            mergeLinear(&symbols)
        } else {
            mergeWithHeap(&symbols)
        }
        out.append(contentsOf: symbols)
    }

    /// O(n²) in the worst case but allocation-free and fastest for ordinary words.
    private func mergeLinear(_ symbols: inout [Int32]) {
        guard symbols.count > 1 else { return }
        // pairRank[p] is the rank of (symbols[p], symbols[p+1]); UInt32.max when they do not merge.
        var pairRank = [UInt32](repeating: .max, count: symbols.count - 1)
        var pairMerged = [Int32](repeating: -1, count: symbols.count - 1)
        for p in 0..<symbols.count - 1 {
            if let m = lookup(symbols[p], symbols[p + 1]) { pairRank[p] = m.rank; pairMerged[p] = m.merged }
        }
        while !pairRank.isEmpty {
            var best = -1
            var bestRank = UInt32.max
            for p in 0..<pairRank.count where pairRank[p] < bestRank {
                bestRank = pairRank[p]; best = p
            }
            guard best >= 0 else { return }
            symbols[best] = pairMerged[best]
            symbols.remove(at: best + 1)
            pairRank.remove(at: best)
            pairMerged.remove(at: best)
            for p in [best - 1, best] where p >= 0 && p < pairRank.count {
                if let m = lookup(symbols[p], symbols[p + 1]) {
                    pairRank[p] = m.rank; pairMerged[p] = m.merged
                } else {
                    pairRank[p] = .max; pairMerged[p] = -1
                }
            }
        }
    }

    /// Doubly linked symbols plus a binary min-heap of candidate merges ordered by (rank, position).
    private func mergeWithHeap(_ symbols: inout [Int32]) {
        let n = symbols.count
        guard n > 1 else { return }
        var next = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(i + 1) }
            buf[n - 1] = -1; count = n
        }
        var prev = (0..<n).map { Int32($0 - 1) }
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap(capacity: 2 * n)
        for p in 0..<n - 1 {
            if let m = lookup(symbols[p], symbols[p + 1]) {
                heap.push(MergeCandidate(rank: m.rank, position: Int32(p), left: symbols[p], right: symbols[p + 1]))
            }
        }
        while let top = heap.pop() {
            let p = Int(top.position)
            let q = Int(next[p])
            // Stale: the left symbol died, has no right neighbour, or either side changed since the push.
            guard alive[p], q >= 0, symbols[p] == top.left, symbols[q] == top.right,
                  let m = lookup(top.left, top.right) else { continue }
            symbols[p] = m.merged
            alive[q] = false
            let after = next[q]
            next[p] = after
            if after >= 0 { prev[Int(after)] = Int32(p) }
            let before = prev[p]
            if before >= 0, let l = lookup(symbols[Int(before)], symbols[p]) {
                heap.push(MergeCandidate(rank: l.rank, position: before, left: symbols[Int(before)], right: symbols[p]))
            }
            if after >= 0, let r = lookup(symbols[p], symbols[Int(after)]) {
                heap.push(MergeCandidate(rank: r.rank, position: Int32(p), left: symbols[p], right: symbols[Int(after)]))
            }
        }
        var merged: [Int32] = []
        merged.reserveCapacity(n)
        var i: Int32 = 0
        while i >= 0 { merged.append(symbols[Int(i)]); i = next[Int(i)] }
        symbols = merged
    }
}
