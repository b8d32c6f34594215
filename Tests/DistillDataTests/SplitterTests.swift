import Foundation
import Testing
@testable import DistillData

@Suite struct SplitterTests {
    let reasoning = repositoryRoot + "/datasets/reasoning.jsonl"

    func ids(_ path: String) throws -> [String] {
        try DatasetReader.read(ReasoningItem.self, from: path).map(\.id).sorted()
    }

    /// The test set equals the one Python's hashlib + json compute for the same rule (scripts/fixtures/data_fixtures.py).
    @Test func matchesPythonReferenceSplit() throws {
        let dir = TestFolder()
        let (train, test) = try DatasetSplitter(testSize: 20, seed: "0")
            .split(input: reasoning, trainOut: dir.path + "/train.jsonl", testOut: dir.path + "/test.jsonl")
        #expect(train == 180 && test == 20)
        #expect(try ids(dir.path + "/test.jsonl") == ReferenceFixtures.reasoningTestIDs)
        var it = try DatasetReader(path: reasoning).makeRawIterator()
        let first = try #require(try it.next())
        #expect(ReferenceFixtures.reasoningTestIDs.count == 20)
        #expect(DatasetSplitter(seed: "0").key(try JSONValue.parse(first.bytes)) == ReferenceFixtures.firstReasoningKey)
        // Train lines are the input lines, byte for byte.
        let input = Set(String(decoding: try Data(contentsOf: URL(fileURLWithPath: reasoning)), as: UTF8.self).split(separator: "\n"))
        #expect(Set(dir.read("train.jsonl").split(separator: "\n")).isSubset(of: input))
    }

    /// Order, layout (pretty JSON array vs JSONL) and key order do not change the split; the seed does.
    @Test func independentOfOrderAndLayout() throws {
        let dir = TestFolder()
        let items = try DatasetReader.read(ReasoningItem.self, from: reasoning)
        // Reversed, pretty-printed, keys in another order.
        let pretty = "[\n" + items.reversed().map { i in
            "  {\n    \"question\": \(quoted(i.question)),\n    \"id\": \(quoted(i.id)),\n    \"kind\": \(quoted(i.kind)),\n    \"answer\": \(quoted(i.answer))\n  }"
        }.joined(separator: ",\n") + "\n]\n"
        let other = dir.write("r.json", pretty)
        let splitter = DatasetSplitter(testSize: 20, seed: "0")
        try splitter.split(input: other, trainOut: dir.path + "/a.json", testOut: dir.path + "/b.jsonl")
        #expect(try ids(dir.path + "/b.jsonl") == ReferenceFixtures.reasoningTestIDs)
        #expect(try DatasetReader(path: dir.path + "/a.json").container == .jsonArray)
        try DatasetSplitter(testSize: 20, seed: "1").split(input: reasoning, trainOut: dir.path + "/c.jsonl", testOut: dir.path + "/d.jsonl")
        #expect(try ids(dir.path + "/d.jsonl") != ReferenceFixtures.reasoningTestIDs)
    }

    @Test func duplicatesStayTogetherAndSmallFilesAreRefused() throws {
        let dir = TestFolder()
        var lines: [String] = []
        for i in 0..<50 { lines.append(#"{"instruction":"q\#(i)","input":"","output":"a\#(i)"}"#) }
        lines += lines  // every item twice
        let path = dir.write("d.jsonl", lines.joined(separator: "\n"))
        try DatasetSplitter(testSize: 30, seed: "x").split(input: path, trainOut: dir.path + "/tr.jsonl", testOut: dir.path + "/te.jsonl")
        let test = Set(dir.read("te.jsonl").split(separator: "\n"))
        let train = Set(dir.read("tr.jsonl").split(separator: "\n"))
        #expect(test.isDisjoint(with: train))
        #expect(throws: DataError.self) {
            try DatasetSplitter(testSize: 100, seed: "x").split(input: path, trainOut: dir.path + "/1.jsonl", testOut: dir.path + "/2.jsonl")
        }
    }

    private func quoted(_ s: String) -> String { String(decoding: JSONValue.string(s).compactData(), as: UTF8.self) }
}
