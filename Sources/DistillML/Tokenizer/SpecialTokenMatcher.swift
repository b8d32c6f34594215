/// Finds added/special tokens (`<|im_start|>`, `<|eot_id|>`, …) in raw text before pre-tokenization.
///
/// A byte trie matched leftmost-longest, as HF's added-vocabulary Aho–Corasick does; the text
/// between matches goes on to the normalizer, pre-tokenizer and BPE.
struct SpecialTokenMatcher: Sendable {
    /// An added token as the tokenizer files describe it.
    struct Entry: Sendable {
        var id: Int32
        var content: String
        /// Whitespace on the left (`lstrip`) or right (`rstrip`) is absorbed into the token.
        var lstrip = false
        var rstrip = false
    }

    /// One match: the byte range it covers (whitespace absorbed included) and its id.
    struct Match {
        var start: Int
        var end: Int
        var id: Int32
    }

    private var children: [[UInt8: Int32]] = [[:]]
    private var terminal: [Int32] = [-1]
    private var strip: [(left: Bool, right: Bool)] = [(false, false)]
    private var firstByte = [Bool](repeating: false, count: 256)

    var isEmpty: Bool { children[0].isEmpty }

    init(_ entries: [Entry]) {
        for e in entries where !e.content.isEmpty {
            var node = 0
            for b in e.content.utf8 {
                if let child = children[node][b] {
                    node = Int(child)
                } else {
                    children.append([:]); terminal.append(-1); strip.append((false, false))
                    children[node][b] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            terminal[node] = e.id
            strip[node] = (e.lstrip, e.rstrip)
        }
        for b in children[0].keys { firstByte[Int(b)] = true }
    }

    /// All non-overlapping matches in `bytes`, left to right.
    func matches(in bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
        var found: [Match] = []
        guard !isEmpty else { return found }
        var i = 0
        var lastEnd = 0
        while i < bytes.count {
            guard firstByte[Int(bytes[i])] else { i += 1; continue }
            var node = 0
            var best = -1
            var bestNode = 0
            var k = i
            while k < bytes.count, let child = children[node][bytes[k]] {
                node = Int(child); k += 1
                if terminal[node] >= 0 { best = k; bestNode = node }
            }
            guard best > 0 else { i += 1; continue }
            var start = i
            var end = best
            if strip[bestNode].left {
                while start > lastEnd && Self.isASCIIWhitespace(bytes[start - 1]) { start -= 1 }
            }
            if strip[bestNode].right {
                while end < bytes.count && Self.isASCIIWhitespace(bytes[end]) { end += 1 }
            }
            found.append(Match(start: start, end: end, id: terminal[bestNode]))
            lastEnd = end
            i = end
        }
        return found
    }

    private static func isASCIIWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }
}
