import DistillML
import Foundation

/// Constrained decoding for one request: before each token, every token whose bytes cannot continue valid JSON
/// matching the schema gets logit -infinity; end-of-turn is allowed only once the value is complete (and then it is
/// the only choice). So the output always parses and matches; if `max_tokens` cuts it, `closing` gives the bytes
/// that complete it validly.
public final class JSONConstraint: LogitsProcessor, @unchecked Sendable {
    // Touched only by the engine thread while the request runs, and by its handler after it finished.
    private let trie: VocabularyTrie
    private let endTokens: [Int]
    private(set) var grammar: JSONGrammar
    private var allowed: [UInt8]
    /// Masks computed and the time they took (µs), for /metrics and the bench.
    public private(set) var masks = 0
    public private(set) var maskMicroseconds: Double = 0

    public init(schema: JSONSchemaNode, trie: VocabularyTrie, endTokens: Set<Int>) {
        self.trie = trie
        self.endTokens = endTokens.sorted()
        grammar = JSONGrammar(schema)
        allowed = [UInt8](repeating: 0, count: trie.vocabularySize)
    }

    public func process(_ logits: UnsafeMutableBufferPointer<Float>, generated: [Int]) {
        let start = DispatchTime.now().uptimeNanoseconds
        for i in allowed.indices { allowed[i] = 0 }
        if !grammar.isComplete {
            allowed.withUnsafeMutableBufferPointer { trie.mark(grammar, into: $0) }
        }
        if grammar.canFinish || !allowed.contains(1) {
            for t in endTokens where t < allowed.count { allowed[t] = 1 }
        }
        for i in 0..<logits.count where i >= allowed.count || allowed[i] == 0 { logits[i] = -.infinity }
        masks += 1
        maskMicroseconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
    }

    public func accept(_ token: Int) {
        guard token >= 0, token < trie.bytes.count, !endTokens.contains(token) else { return }
        _ = grammar.feed(trie.bytes[token])
    }

    /// Bytes that complete the output validly (empty when it is complete).
    public var closing: String {
        grammar.isComplete || grammar.canFinish ? "" : String(decoding: grammar.closing, as: UTF8.self)
    }
}
