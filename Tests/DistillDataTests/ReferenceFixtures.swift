import Foundation

/// Reference values computed by Python (codecs, hashlib, json) — see scripts/fixtures/data_fixtures.py, which
/// writes Fixtures/data_reference.json.
enum ReferenceFixtures {
    private struct File: Decodable {
        var mojibake: [[String]]
        var mojibake_lossy: [[String]]?
        var reasoning_test_ids: [String]
        var first_reasoning_key: String
    }

    private static let file: File? = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/data_reference.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(File.self, from: data)
    }()

    /// (double-encoded text, original) pairs from Python's cp1252 codec.
    static var mojibake: [(String, String)] { (file?.mojibake ?? []).compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } }
    /// (double-encoded text with cp1252's undefined bytes dropped, original) pairs, Python's errors="ignore".
    static var lossyMojibake: [(String, String)] {
        (file?.mojibake_lossy ?? []).compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
    }
    /// ids of the 20-item test split of datasets/reasoning.jsonl with seed "0", sorted.
    static var reasoningTestIDs: [String] { file?.reasoning_test_ids ?? [] }
    /// The split key of the first item of datasets/reasoning.jsonl with seed "0".
    static var firstReasoningKey: UInt64? { file.flatMap { UInt64($0.first_reasoning_key) } }
}
