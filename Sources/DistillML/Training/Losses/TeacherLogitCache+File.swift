import DistillData
import Foundation

/// The cache on disk: `DIR/topk.bin` (the entries) and `DIR/manifest.json` (the fingerprint and the SHA-256 of
/// topk.bin), each written atomically, the manifest last, so a cache interrupted while being written is simply absent.
///
/// topk.bin, little-endian: "DTLC", u32 version, u32 k, u32 examples; per example its 32-byte key, u32 positions,
/// then per position u32 token index, f32 tail mass, k × i32 ids, k × f32 log-probs. Every count is checked against
/// the bytes left before anything is allocated.
extension TeacherLogitCache {
    public static let manifestName = "manifest.json"
    public static let entriesName = "topk.bin"
    static let magic: [UInt8] = Array("DTLC".utf8)

    /// Whether `dir` holds a finished cache (its manifest).
    public static func exists(in dir: String) -> Bool {
        FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(manifestName))
    }

    public func write(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let k = fingerprint.k
        var out = Data(Self.magic)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) } }
        func f32(_ v: Float) { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        u32(Self.version)
        u32(k)
        u32(entries.count)
        for key in entries.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            out.append(key)
            let positions = entries[key] ?? [:]
            u32(positions.count)
            for j in positions.keys.sorted() {
                guard let e = positions[j], e.ids.count == k, e.logprobs.count == k else {
                    throw DistillMLError(file: dir, "internal: an entry without \(k) ids")
                }
                u32(j)
                f32(e.tail ?? 0)
                for id in e.ids { withUnsafeBytes(of: id.littleEndian) { out.append(contentsOf: $0) } }
                for lp in e.logprobs { f32(lp) }
            }
        }
        let entriesPath = (dir as NSString).appendingPathComponent(Self.entriesName)
        try AtomicFile.write(out, to: entriesPath)
        let f = fingerprint
        let manifest = JSONValue.object([
            .init("data", .array(f.data.map { .object([.init("file", .string($0.path)), .init("sha256", .string($0.sha256))]) })),
            .init("entries_sha256", .string(SHA256.hex(out))),
            .init("k", .number("\(f.k)")),
            .init("max_seq", .number("\(f.maxSequence)")),
            .init("rows", .number("\(f.rows)")),
            .init("rows_sha256", .string(f.rowsSHA256)),
            .init("teacher", .string(f.teacher)),
            .init("teacher_sha256", .string(f.teacherSHA256)),
            .init("version", .number("\(Self.version)")),
        ])
        try AtomicFile.write(manifest.compactData() + Data("\n".utf8), to: (dir as NSString).appendingPathComponent(Self.manifestName))
    }

    /// Reads a cache written by `write(to:)`; a damaged or foreign file is an error naming it.
    public static func read(from dir: String) throws -> TeacherLogitCache {
        let manifestPath = (dir as NSString).appendingPathComponent(manifestName)
        let entriesPath = (dir as NSString).appendingPathComponent(entriesName)
        func bad(_ field: String) -> DataError {
            DataError(file: manifestPath, field: field, "missing or of the wrong type; delete the folder to recompute the cache")
        }
        guard let text = FileManager.default.contents(atPath: manifestPath), let m = try? JSONValue.parse(text) else {
            throw DataError(file: manifestPath, "not a teacher cache manifest (JSON); delete the folder to recompute the cache")
        }
        guard int(m["version"]) == version else {
            throw DataError(file: manifestPath, field: "version", "this cache was written by another version of distill; delete the folder to recompute it")
        }
        guard let k = int(m["k"]), k > 0 else { throw bad("k") }
        guard let maxSeq = int(m["max_seq"]), let rows = int(m["rows"]) else { throw bad("max_seq") }
        guard let rowsSHA = m["rows_sha256"]?.stringValue, let teacher = m["teacher"]?.stringValue,
              let teacherSHA = m["teacher_sha256"]?.stringValue, let entriesSHA = m["entries_sha256"]?.stringValue else {
            throw bad("teacher")
        }
        guard case .array(let files)? = m["data"] else { throw bad("data") }
        let data = try files.map { v -> (path: String, sha256: String) in
            guard let p = v["file"]?.stringValue, let s = v["sha256"]?.stringValue else { throw bad("data") }
            return (p, s)
        }
        let fingerprint = Fingerprint(teacher: teacher, teacherSHA256: teacherSHA, data: data, maxSequence: maxSeq, k: k,
                                      rows: rows, rowsSHA256: rowsSHA)
        guard let bytes = FileManager.default.contents(atPath: entriesPath) else {
            throw DataError(file: entriesPath, "missing; delete the folder to recompute the cache")
        }
        guard SHA256.hex(bytes) == entriesSHA else {
            throw DataError(file: entriesPath, "does not match its manifest (damaged or half-copied); delete the folder to recompute the cache")
        }
        return TeacherLogitCache(fingerprint: fingerprint, entries: try parse([UInt8](bytes), k: k, path: entriesPath))
    }

    static func int(_ v: JSONValue?) -> Int? { if case .number(let n)? = v { Int(n) } else { nil } }

    static func parse(_ b: [UInt8], k: Int, path: String) throws -> [Data: [Int: TeacherTopK]] {
        var at = 0
        func fail(_ what: String) -> DataError { DataError(file: path, "\(what) at byte \(at); delete the folder to recompute the cache") }
        func u32() throws -> Int {
            guard b.count - at >= 4 else { throw fail("ends early") }
            defer { at += 4 }
            return Int(UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24)
        }
        guard b.count >= 4, Array(b[0..<4]) == magic else { throw fail("not a teacher cache (no DTLC header)") }
        at = 4
        guard try u32() == version else { throw fail("another format version") }
        guard try u32() == k else { throw fail("k differs from the manifest's") }
        let count = try u32()
        // One position takes 8 + 8k bytes; the smallest example 36.
        let (perPosition, o1) = k.multipliedReportingOverflow(by: 8)
        let (recordSize, o2) = perPosition.addingReportingOverflow(8)
        guard !o1, !o2 else { throw fail("k is too large") }
        guard count <= (b.count - at) / 36 else { throw fail("claims \(count) examples, more than the file can hold") }
        var entries: [Data: [Int: TeacherTopK]] = [:]
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard b.count - at >= 36 else { throw fail("ends early") }
            let key = Data(b[at..<at + 32])
            at += 32
            let n = try u32()
            guard n <= (b.count - at) / recordSize else { throw fail("claims \(n) positions, more than the file holds") }
            var positions: [Int: TeacherTopK] = [:]
            positions.reserveCapacity(n)
            for _ in 0..<n {
                let j = try u32()
                let tail = Float(bitPattern: UInt32(try u32()))
                var ids = [Int32](repeating: 0, count: k), lps = [Float](repeating: 0, count: k)
                for i in 0..<k { ids[i] = Int32(bitPattern: UInt32(try u32())) }
                for i in 0..<k { lps[i] = Float(bitPattern: UInt32(try u32())) }
                positions[j] = TeacherTopK(ids: ids, logprobs: lps, tail: tail)
            }
            guard entries.updateValue(positions, forKey: key) == nil else { throw fail("holds one example twice") }
        }
        guard at == b.count else { throw fail("has extra bytes") }
        return entries
    }
}
