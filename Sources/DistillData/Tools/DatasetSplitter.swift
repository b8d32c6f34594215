import Foundation

/// Splits a dataset into train and test by a stable hash of each item, identical on every machine.
///
/// Key of an item: SHA-256 of `"distill-split\0" + seed + "\0" + canonical JSON` (keys sorted, see
/// `JSONValue.canonicalData`), first 8 bytes big-endian. The `testSize` items with the smallest keys (ties broken by
/// position) form the test set. So the split depends only on the items and the seed — not on file order, layout or
/// platform — and exact duplicates always land on the same side (no train/test leakage through copies).
/// Two passes over the file; memory is 8 bytes per item.
public struct DatasetSplitter: Sendable {
    /// Items in the test set; nil for the default, min(2048, 10% of the items) (at least 1).
    public var testSize: Int?
    public var seed: String
    /// Progress on big files (stderr); nil for none.
    public var progress: ProgressReporter?

    /// The test size when none is given: 2,048 items, or 10% of a smaller file (at least 1).
    public static func defaultTestSize(items: Int) -> Int { max(1, min(2048, items / 10)) }

    public init(testSize: Int? = nil, seed: String = "0") {
        self.testSize = testSize
        self.seed = seed
    }

    /// The split key of one item.
    public func key(_ item: JSONValue) -> UInt64 {
        var h = SHA256.Hasher()
        h.update(Data("distill-split\u{0}\(seed)\u{0}".utf8))
        h.update(item.canonicalData())
        return h.finalize().prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Writes the train and test files; returns (train, test) counts.
    @discardableResult
    public func split(input: String, trainOut: String, testOut: String) throws -> (train: Int, test: Int) {
        let reader = try DatasetReader(path: input, progress: progress)
        var keys: [UInt64] = []
        try reader.forEachRaw { raw in keys.append(key(try Self.parse(raw, file: input))) }
        let testSize = self.testSize ?? Self.defaultTestSize(items: keys.count)
        guard keys.count > testSize else {
            throw DataError(file: input, "has \(keys.count) items, not more than --test-size \(testSize): "
                + "nothing would be left to train on; pass a smaller --test-size (or leave it out: 10% of a small file)")
        }
        let order = keys.indices.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
        var inTest = [Bool](repeating: false, count: keys.count)
        for i in order.prefix(testSize) { inTest[i] = true }
        let train = try DatasetWriter(path: trainOut)
        let test = try DatasetWriter(path: testOut)
        var index = 0
        try reader.forEachRaw { raw in
            let out = inTest[index] ? test : train
            index += 1
            // Keep a JSONL line byte for byte; objects from a pretty-printed array are re-written compactly.
            if out.container == .jsonLines, raw.bytes.contains(0x0A) {
                try out.append(try Self.parse(raw, file: input))
            } else {
                try out.append(json: raw.bytes)
            }
        }
        return (try train.finish(), try test.finish())
    }

    static func parse(_ raw: RawItem, file: String) throws -> JSONValue {
        do { return try JSONValue.parse(raw.bytes) } catch {
            throw DataError(file: file, line: raw.line, "not valid JSON (\(error)); run 'distill data check' to see every problem")
        }
    }
}
