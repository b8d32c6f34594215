/// A candidate BPE merge: the pair (left, right) starting at symbol `position`, with its rank.
struct MergeCandidate {
    var rank: UInt32
    var position: Int32
    var left: Int32
    var right: Int32

    /// Lower rank first; on equal rank the leftmost pair, as HF and llama.cpp merge.
    @inline(__always)
    func precedes(_ other: MergeCandidate) -> Bool {
        rank != other.rank ? rank < other.rank : position < other.position
    }
}

/// A binary min-heap of merge candidates. Concrete rather than generic so the optimizer inlines the
/// comparisons: the heap path runs on every long word (a run of 3000 spaces is one word).
struct MergeHeap {
    private var items: [MergeCandidate] = []

    init(capacity: Int) { items.reserveCapacity(capacity) }

    mutating func push(_ e: MergeCandidate) {
        items.append(e)
        var i = items.count - 1
        items.withUnsafeMutableBufferPointer { h in
            while i > 0 {
                let parent = (i - 1) / 2
                guard h[i].precedes(h[parent]) else { break }
                h.swapAt(i, parent); i = parent
            }
        }
    }

    mutating func pop() -> MergeCandidate? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items.withUnsafeMutableBufferPointer { h in
            h[0] = last
            var i = 0
            let n = h.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && h[l].precedes(h[m]) { m = l }
                if r < n && h[r].precedes(h[m]) { m = r }
                if m == i { break }
                h.swapAt(i, m); i = m
            }
        }
        return top
    }
}
