import Foundation

/// Counts and text lengths of any dataset of JSON objects, computed in one streaming pass.
///
/// Lengths are in characters (Unicode scalars: "中文" is 2, "🙂" is 1). Fields are paths to strings; chat turns are
/// grouped by speaker (`messages[user].content`). Duplicates are items whose canonical JSON (keys sorted) equals an
/// earlier item's.
public struct DatasetStats: Sendable, Codable {
    /// Length statistics of one field.
    public struct Field: Sendable, Codable {
        public var field: String
        /// Items with this field.
        public var count: Int
        /// Values that are empty or only whitespace.
        public var empty: Int
        public var min: Int
        public var mean: Double
        public var p50: Int
        public var p95: Int
        public var max: Int
    }

    public var file: String
    public var container: String
    public var items: Int
    /// Items that repeat an earlier item exactly.
    public var duplicates: Int
    public var fields: [Field]
    /// The same statistics in tokens, when a token counter was given (empty otherwise).
    public var tokenFields: [Field]
    /// What counted the tokens (a tokenizer file), if anything.
    public var tokenizer: String?

    /// Reads `path` once. Memory: one length per string value (two with tokens) and 16 bytes per item.
    /// `countTokens` (from a real tokenizer, which DistillData cannot import) adds token statistics.
    public init(path: String, tokenizer: String? = nil, countTokens: ((String) -> Int)? = nil,
                progress: ProgressReporter? = nil) throws {
        let reader = try DatasetReader(path: path, progress: progress)
        var lengths: [String: [Int]] = [:]
        var tokens: [String: [Int]] = [:]
        var empties: [String: Int] = [:]
        var order: [String] = []
        var seen = Set<ContentKey>()
        var items = 0, duplicates = 0
        try reader.forEachRaw { raw in
            let value: JSONValue
            do { value = try JSONValue.parse(raw.bytes) } catch {
                throw DataError(file: path, line: raw.line, "not valid JSON (\(error)); fix the line or run 'distill data check'")
            }
            items += 1
            if !seen.insert(ContentKey(value)).inserted { duplicates += 1 }
            var perItem: [String: Int] = [:]
            var tokensPerItem: [String: Int] = [:]
            var emptyInItem: Set<String> = []
            let fieldsInOrder = value.strings(byRole: true)
            for (field, text) in fieldsInOrder {
                perItem[field, default: 0] += text.unicodeScalars.count
                if let countTokens { tokensPerItem[field, default: 0] += countTokens(text) }
                if text.allSatisfy(\.isWhitespace) { emptyInItem.insert(field) }
            }
            for (field, _) in fieldsInOrder where perItem[field] != nil {
                if lengths[field] == nil { order.append(field) }  // first seen, first listed
                lengths[field, default: []].append(perItem.removeValue(forKey: field) ?? 0)
            }
            for (field, n) in tokensPerItem { tokens[field, default: []].append(n) }
            for field in emptyInItem { empties[field, default: 0] += 1 }
        }
        self.file = path
        self.container = reader.container.rawValue
        self.items = items
        self.duplicates = duplicates
        func summarise(_ name: String, _ values: [Int]?) -> Field {
            let v = (values ?? []).sorted()
            return Field(field: name, count: v.count, empty: empties[name] ?? 0, min: v.first ?? 0,
                         mean: v.isEmpty ? 0 : Double(v.reduce(0, +)) / Double(v.count),
                         p50: Self.percentile(v, 0.50), p95: Self.percentile(v, 0.95), max: v.last ?? 0)
        }
        self.fields = order.map { summarise($0, lengths[$0]) }
        self.tokenFields = countTokens == nil ? [] : order.map { summarise($0, tokens[$0]) }
        self.tokenizer = countTokens == nil ? nil : tokenizer
    }

    /// Nearest-rank percentile of sorted values (the smallest value with at least `q` of the data at or below it).
    static func percentile(_ sorted: [Int], _ q: Double) -> Int {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }

    /// A plain-text table for the terminal.
    public var table: String {
        var out = "\(file): \(items) items (\(container)), \(duplicates) exact duplicates\n"
        out += Self.table(fields) + "(lengths in characters)\n"
        if !tokenFields.isEmpty {
            out += "\n" + Self.table(tokenFields) + "(lengths in tokens of \(tokenizer ?? "the tokenizer"))\n"
        }
        return out
    }

    private static func table(_ fields: [Field]) -> String {
        var out = ""
        let header = ["field", "items", "empty", "min", "mean", "p50", "p95", "max"]
        var rows = [header]
        for f in fields {
            rows.append([f.field, "\(f.count)", "\(f.empty)", "\(f.min)", String(format: "%.1f", f.mean), "\(f.p50)",
                         "\(f.p95)", "\(f.max)"])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for r in rows {
            out += r.enumerated().map { c, s in
                c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[c] - s.count) + s
            }.joined(separator: "  ") + "\n"
        }
        return out
    }
}
