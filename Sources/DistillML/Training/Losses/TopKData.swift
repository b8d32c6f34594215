import DistillData
import Foundation

/// Attaches the teacher's top-k logprobs from harvest `answer` rows (`--top-logprobs`) to the tokenised examples:
/// teacher tokens (their `bytes`, else the token string's UTF-8) are aligned with the student's tokens of the
/// assistant reply by byte span, and each top-k alternative is mapped to the student id with the same bytes.
///
/// A student position is *matched* when one teacher token covers exactly its bytes; the mismatch rate is the share of
/// the reply's student tokens that are not. Alternatives with no student id of the same bytes are left out (their
/// mass falls into the tail bucket of the `tail` variant). Matched positions get a `TeacherTopK`; the others train
/// on cross-entropy alone.
public struct TopKData: Sendable {
    public var examples: [TrainingExample]
    /// Student reply tokens over all rows, and how many of them had a teacher token of the same bytes.
    public var positions = 0
    public var matched = 0
    /// Rows without a `logprobs` array (trained on cross-entropy only).
    public var rowsWithoutLogprobs = 0

    public var mismatchRate: Double { positions == 0 ? 1 : 1 - Double(matched) / Double(positions) }

    /// One teacher token: its bytes, log-prob and alternatives.
    struct TeacherToken {
        var bytes: [UInt8]
        var alternatives: [(bytes: [UInt8], logprob: Float)]
    }

    /// Reads `files` (harvest answer.jsonl rows: `instruction`, `input`, `output`, `logprobs`) through the same
    /// reader and chat template as plain training, then attaches the top-k.
    public static func load(files: [String], tokenizer t: TrainingTokenizer) throws -> (TopKData, dropped: [TrainingDropReason: Int], truncated: Int) {
        var d = TopKData(examples: [])
        var dropped: [TrainingDropReason: Int] = [:]
        var truncated = 0
        let byBytes = Dictionary(
            (0..<t.tokenizer.vocabularySize).filter { !t.tokenizer.specialIDs.contains($0) }.map { (t.tokenizer.tokenBytes($0), $0) },
            uniquingKeysWith: { a, _ in a })
        for file in files {
            let reader = TrainingItemReader(path: file)
            try DatasetReader(path: file).forEachValue { item in
                switch try reader.conversation(item.value, line: item.line) {
                case .failure(let reason): dropped[reason, default: 0] += 1
                case .success(let c):
                    switch t.encode(c) {
                    case .failure(let reason): dropped[reason, default: 0] += 1
                    case .success(var r):
                        if r.truncated { truncated += 1 }
                        let teacher = try Self.teacherTokens(item.value["logprobs"], file: file, line: item.line)
                        if teacher.isEmpty { d.rowsWithoutLogprobs += 1 } else { d.attach(teacher, to: &r.example, t.tokenizer, byBytes) }
                        d.examples.append(r.example)
                    }
                }
            }
        }
        return (d, dropped, truncated)
    }

    /// Aligns the teacher tokens with the example's last assistant span (its reply) by bytes.
    mutating func attach(_ teacher: [TeacherToken], to e: inout TrainingExample, _ tok: Tokenizer, _ byBytes: [[UInt8]: Int]) {
        // The reply: the last run of target tokens, without its end-of-turn token.
        guard let last = e.isTarget.lastIndex(of: true) else { return }
        var first = last
        while first > 0, e.isTarget[first - 1] { first -= 1 }
        var ends: [Int: Int] = [:]  // teacher token start byte → index
        var offset = 0
        for (j, tk) in teacher.enumerated() {
            ends[offset] = j
            offset += tk.bytes.count
        }
        let replyBytes = offset
        var topK: [Int: TeacherTopK] = [:]
        var pos = 0
        for i in first...last {
            let id = Int(e.tokens[i])
            if tok.specialIDs.contains(id) || pos >= replyBytes { break }
            let b = tok.tokenBytes(id)
            positions += 1
            if let j = ends[pos], teacher[j].bytes == b {
                matched += 1
                var ids: [Int32] = [], lps: [Float] = []
                for alt in teacher[j].alternatives {
                    guard let sid = byBytes[alt.bytes], !ids.contains(Int32(sid)) else { continue }
                    ids.append(Int32(sid))
                    lps.append(alt.logprob)
                }
                if !ids.isEmpty { topK[i] = TeacherTopK(ids: ids, logprobs: lps) }
            }
            pos += b.count
        }
        if !topK.isEmpty { e.teacherTopK = topK }
    }

    /// The `logprobs` array of a harvest row (OpenAI `choices[0].logprobs.content` entries), or [] when absent.
    static func teacherTokens(_ v: JSONValue?, file: String, line: Int) throws -> [TeacherToken] {
        guard let v, v != .null else { return [] }
        guard case .array(let list) = v else { throw DataError(file: file, line: line, field: "logprobs", "should be an array") }
        func bytes(_ x: JSONValue, _ field: String) throws -> [UInt8] {
            if case .array(let raw)? = x["bytes"] {
                return try raw.map {
                    guard case .number(let n) = $0, let b = UInt8(n) else {
                        throw DataError(file: file, line: line, field: field + ".bytes", "should hold numbers 0…255")
                    }
                    return b
                }
            }
            guard let s = x["token"]?.stringValue else { throw DataError(file: file, line: line, field: field + ".token", "missing") }
            return Array(s.utf8)
        }
        func logprob(_ x: JSONValue, _ field: String) throws -> Float {
            guard case .number(let n)? = x["logprob"], let f = Double(n), f <= 1e-6 else {
                throw DataError(file: file, line: line, field: field + ".logprob", "should be a number ≤ 0")
            }
            return Float(min(0, max(f, -1e4)))
        }
        return try list.enumerated().map { j, x in
            var alts: [(bytes: [UInt8], logprob: Float)] = []
            if case .array(let top)? = x["top_logprobs"] {
                for (k, a) in top.enumerated() {
                    alts.append((try bytes(a, "logprobs[\(j)].top_logprobs[\(k)]"), try logprob(a, "logprobs[\(j)].top_logprobs[\(k)]")))
                }
            }
            if alts.isEmpty { alts = [(try bytes(x, "logprobs[\(j)]"), try logprob(x, "logprobs[\(j)]"))] }
            return TeacherToken(bytes: try bytes(x, "logprobs[\(j)]"), alternatives: alts)
        }
    }
}
