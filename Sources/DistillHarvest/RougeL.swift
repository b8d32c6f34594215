import DistillClient
import Foundation

/// ROUGE-L F-measure (Lin 2004: LCS-based, β = 1, as `rouge_score` computes it for Self-Instruct's 0.7 filter),
/// with a tokenizer that also works for Chinese: lower-cased runs of letters and digits, and every CJK character a
/// token of its own (rouge_score's default tokenizer would drop CJK entirely).
public enum RougeL {
    /// Tokens of `text`.
    public static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty { out.append(String(word)) }
            word = String.UnicodeScalarView()
        }
        for scalar in text.lowercased().unicodeScalars {
            if TokenEstimator.isCJK(scalar.value) && scalar.properties.isAlphabetic {
                flush()
                out.append(String(scalar))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                word.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return out
    }

    /// Length of the longest common subsequence (two-row dynamic programme, O(n·m) time, O(m) space).
    /// Works on token ids (not strings) so the inner loop compares integers.
    public static func lcs(_ a: [Int32], _ b: [Int32]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var previous = [Int32](repeating: 0, count: b.count + 1)
        var current = previous
        b.withUnsafeBufferPointer { b in
            for x in a {
                previous.withUnsafeBufferPointer { prev in
                    current.withUnsafeMutableBufferPointer { cur in
                        for j in 0..<b.count {
                            cur[j + 1] = x == b[j] ? prev[j] + 1 : max(prev[j + 1], cur[j])
                        }
                    }
                }
                swap(&previous, &current)
            }
        }
        return Int(previous[b.count])
    }

    /// The LCS of two token lists, via ids.
    public static func lcs(_ a: [String], _ b: [String]) -> Int {
        var ids: [String: Int32] = [:]
        func id(_ t: String) -> Int32 {
            if let i = ids[t] { return i }
            let i = Int32(ids.count)
            ids[t] = i
            return i
        }
        return lcs(a.map(id), b.map(id))
    }

    /// F-measure from an LCS length and the two lengths: 2·P·R / (P + R) = 2·LCS / (n + m).
    public static func fmeasure(lcs: Int, _ n: Int, _ m: Int) -> Double {
        guard lcs > 0 else { return 0 }
        let p = Double(lcs) / Double(n)
        let r = Double(lcs) / Double(m)
        return 2 * p * r / (p + r)
    }

    /// ROUGE-L F between two texts.
    public static func score(_ a: String, _ b: String) -> Double {
        let x = tokens(a)
        let y = tokens(b)
        return fmeasure(lcs: lcs(x, y), x.count, y.count)
    }
}

/// The texts kept so far, indexed so that "is any kept text within ROUGE-L > t of this one?" does not compare
/// against all of them. Prefix filtering (as in set-similarity joins): F > t needs LCS > t·(n+m)/2, and LCS is at
/// most the multiset overlap, so two texts can only match if they share a token among the first few of each in one
/// fixed global order. Common words sort last in that order, so the probed prefixes are mostly rare words and a
/// probe touches few candidates; each survivor is then checked exactly with the LCS.
public struct RougeLIndex: Sendable {
    public let threshold: Double
    private var vocabulary: [String: Int32] = [:]
    private var texts: [[Int32]] = []
    /// Each text's (occurrence, id) elements, sorted: the multiset overlap with a probe is a linear merge.
    private var elements: [[Int64]] = []
    private var postings: [Int64: [Int32]] = [:]
    /// Pairs checked with the full LCS so far (the work the prefix and length filters did not save).
    public private(set) var verifiedPairs = 0

    public init(threshold: Double = 0.7) {
        self.threshold = threshold
    }

    public var count: Int { texts.count }

    /// A small set of very common words placed last in the global order (any fixed order is correct; this one makes
    /// prefixes selective).
    static let common: Set<String> = ["a", "an", "the", "of", "to", "and", "or", "in", "on", "for", "with", "is", "are",
                                      "be", "that", "this", "it", "as", "by", "from", "at", "your", "you", "what", "how",
                                      "write", "give", "list", "describe", "explain", "following", "given", "text",
                                      "的", "是", "一", "个", "在", "和", "了", "请", "给", "出", "写", "下", "中"]

    /// Token ids in the global order: rare-looking tokens by id, common words last.
    private mutating func ids(_ tokens: [String], adding: Bool) -> [Int32] {
        tokens.map { t in
            if let id = vocabulary[t] { return id }
            // Unseen tokens get fresh ids; only stored when adding, since a probe's new words cannot match anything.
            let id = Int32(vocabulary.count) + (Self.common.contains(t) ? 1 << 30 : 0)
            if adding { vocabulary[t] = id }
            return id
        }
    }

    /// How many of the first tokens (in global order) a text of length n must index or probe: any partner needs an
    /// overlap of more than t·(n+m)/2, and the smallest partner that can reach F > t has m ≥ n·t/(2−t), so the
    /// overlap is at least ⌈n·t/(2−t)⌉; a shared token must appear among the first n − overlap + 1.
    private func prefixLength(_ n: Int) -> Int {
        let overlap = Int((Double(n) * threshold / (2 - threshold)).rounded(.up))
        return max(1, min(n, n - overlap + 1))
    }

    /// The tokens as a set of (occurrence, id) pairs in the global order, so that set overlap equals multiset overlap
    /// (an upper bound on the LCS): the k-th "the" is a different element from the first.
    static func occurrences(_ seq: [Int32]) -> [Int64] {
        var counts: [Int32: Int64] = [:]
        var out: [Int64] = []
        out.reserveCapacity(seq.count)
        for id in seq {
            let k = counts[id, default: 0]
            counts[id] = k + 1
            out.append(k << 32 | Int64(id))
        }
        return out.sorted()
    }

    /// Size of the intersection of two sorted element arrays.
    static func overlap(_ a: [Int64], _ b: [Int64]) -> Int {
        var i = 0, j = 0, n = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                n += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return n
    }

    /// The best score above the threshold against any indexed text, and that text's index; nil if none is above.
    public mutating func match(_ text: String) -> (index: Int, score: Double)? {
        let seq = ids(RougeL.tokens(text), adding: false)
        guard !seq.isEmpty else { return nil }
        let ordered = Self.occurrences(seq)
        var seen = Set<Int32>()
        var best: (Int, Double)? = nil
        for token in ordered.prefix(prefixLength(ordered.count)) {
            for candidate in postings[token] ?? [] where seen.insert(candidate).inserted {
                let other = texts[Int(candidate)]
                // Cheap bounds first: F ≤ 2·min(n,m)/(n+m), and F ≤ 2·overlap/(n+m) since LCS ≤ multiset overlap.
                let total = Double(seq.count + other.count)
                guard 2 * Double(min(seq.count, other.count)) / total > threshold,
                      2 * Double(Self.overlap(ordered, elements[Int(candidate)])) / total > threshold else { continue }
                verifiedPairs += 1
                let f = RougeL.fmeasure(lcs: RougeL.lcs(seq, other), seq.count, other.count)
                if f > threshold, f > (best?.1 ?? 0) { best = (Int(candidate), f) }
            }
        }
        return best
    }

    /// Adds a kept text.
    public mutating func add(_ text: String) {
        let seq = ids(RougeL.tokens(text), adding: true)
        let index = Int32(texts.count)
        texts.append(seq)
        let ordered = Self.occurrences(seq)
        elements.append(ordered)
        for token in ordered.prefix(prefixLength(ordered.count)) { postings[token, default: []].append(index) }
    }
}
