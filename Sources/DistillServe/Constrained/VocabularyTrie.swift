import DistillML

/// The vocabulary as a byte trie (tokens sharing a prefix share its path), so a mask walks each shared prefix once
/// and drops a whole subtree at the first byte the grammar refuses. Built once per model; shared by every request.
public final class VocabularyTrie: Sendable {
    /// Edges of node n are `edgeBytes/edgeTargets[edgeStart[n] ..< edgeStart[n + 1]]`; tokens ending at n likewise.
    let edgeStart: [Int32]
    let edgeBytes: [UInt8]
    let edgeTargets: [Int32]
    let tokenStart: [Int32]
    let tokenIDs: [Int32]
    /// Each id's bytes (empty for control tokens, which constrained output never contains).
    public let bytes: [[UInt8]]
    /// Ids whose bytes are whole UTF-8 characters with no quote, backslash or control byte: inside a JSON string any of
    /// them is fine while the string has room for `chars[id]` more characters.
    let plainInString: [Int32]
    let chars: [Int32]
    /// Ids that are not plain (they need the grammar to judge them inside a string).
    let otherIDs: [Int32]
    public let vocabularySize: Int

    public init(tokenizer: Tokenizer, vocabularySize: Int) {
        self.vocabularySize = vocabularySize
        var bytes: [[UInt8]] = []
        bytes.reserveCapacity(vocabularySize)
        for id in 0..<vocabularySize {
            bytes.append(tokenizer.specialIDs.contains(id) ? [] : tokenizer.tokenBytes(id))
        }
        self.bytes = bytes
        var plain: [Int32] = [], other: [Int32] = []
        var chars = [Int32](repeating: 0, count: vocabularySize)
        for (id, b) in bytes.enumerated() where !b.isEmpty {
            if let n = Self.plainCharacters(b) {
                plain.append(Int32(id))
                chars[id] = Int32(n)
            } else {
                other.append(Int32(id))
            }
        }
        plainInString = plain
        otherIDs = other
        self.chars = chars

        // Build level by level from the ids sorted by their bytes: a node is a run of ids sharing a prefix.
        let order = bytes.indices.filter { !bytes[$0].isEmpty }.sorted { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
        var eStart: [Int32] = [], eBytes: [UInt8] = [], eTargets: [Int32] = [], tStart: [Int32] = [], tIDs: [Int32] = []
        // Breadth-first queue of (range in `order`, depth); node index = position in the queue.
        var queue: [(lo: Int, hi: Int, depth: Int)] = [(0, order.count, 0)]
        var head = 0
        while head < queue.count {
            let (lo, hi, depth) = queue[head]
            head += 1
            eStart.append(Int32(eBytes.count))
            tStart.append(Int32(tIDs.count))
            var i = lo
            while i < hi && bytes[order[i]].count == depth { tIDs.append(Int32(order[i])); i += 1 }
            while i < hi {
                let b = bytes[order[i]][depth]
                var j = i
                while j < hi && bytes[order[j]][depth] == b { j += 1 }
                eBytes.append(b)
                eTargets.append(Int32(queue.count))
                queue.append((i, j, depth + 1))
                i = j
            }
        }
        eStart.append(Int32(eBytes.count))
        tStart.append(Int32(tIDs.count))
        edgeStart = eStart
        edgeBytes = eBytes
        edgeTargets = eTargets
        tokenStart = tStart
        tokenIDs = tIDs
    }

    public var nodeCount: Int { edgeStart.count - 1 }

    /// Characters in `b` if it is whole UTF-8 characters without `"`, `\` or control bytes, else nil.
    static func plainCharacters(_ b: [UInt8]) -> Int? {
        var i = 0, n = 0
        while i < b.count {
            let c = b[i]
            let len: Int
            switch c {
            case 0x22, 0x5C, 0..<0x20: return nil
            case 0x20..<0x80: len = 1
            case 0xC2...0xDF: len = 2
            case 0xE0...0xEF: len = 3
            case 0xF0...0xF4: len = 4
            default: return nil
            }
            guard i + len <= b.count else { return nil }
            if len > 1 && !StringFrame.secondByte(after: c).contains(b[i + 1]) { return nil }
            for k in 1..<len where b[i + k] & 0xC0 != 0x80 { return nil }
            i += len
            n += 1
        }
        return n
    }

    /// Marks in `allowed` (1 = allowed) every token whose bytes `grammar` accepts from its current state.
    func mark(_ grammar: JSONGrammar, into allowed: UnsafeMutableBufferPointer<UInt8>) {
        if grammar.alternatives.count == 1, case .string(let f)? = grammar.alternatives[0].last,
           f.escape == 0, f.pendingUTF8 == 0, f.collected == nil {
            // Inside a string: whole plain characters are fine while they fit; only the rest need the grammar.
            let room = f.max.map { $0 - f.length } ?? Int.max
            for id in plainInString where Int(chars[Int(id)]) <= room { allowed[Int(id)] = 1 }
            for id in otherIDs {
                // Run the string alone (no allocation); only a token that closes the string needs the grammar.
                var string = f
                var verdict: UInt8 = 1
                for b in bytes[Int(id)] {
                    switch string.feed(b) {
                    case .more: continue
                    case .invalid: verdict = 0
                    case .complete:
                        var g = grammar
                        verdict = g.feed(bytes[Int(id)]) ? 1 : 0
                    }
                    break
                }
                if verdict == 1 { allowed[Int(id)] = 1 }
            }
            return
        }
        var stack: [(node: Int32, grammar: JSONGrammar)] = [(0, grammar)]
        while let (node, g) = stack.popLast() {
            let n = Int(node)
            for e in Int(edgeStart[n])..<Int(edgeStart[n + 1]) {
                var next = g
                guard next.feed(edgeBytes[e]) else { continue }
                let child = Int(edgeTargets[e])
                for t in Int(tokenStart[child])..<Int(tokenStart[child + 1]) { allowed[Int(tokenIDs[t])] = 1 }
                if edgeStart[child] < edgeStart[child + 1] { stack.append((edgeTargets[e], next)) }
            }
        }
    }
}
