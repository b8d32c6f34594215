import Foundation
import Testing
@testable import DistillData

@Suite struct StatsAndCheckTests {
    @Test func statsCountLengthsInCharactersEmptiesAndDuplicates() throws {
        let dir = TestFolder()
        let path = dir.write("s.jsonl", """
            {"instruction":"中文","input":"","output":"🙂🙂🙂"}
            {"instruction":"abcd","input":"x","output":"  "}
            {"instruction":"中文","input":"","output":"🙂🙂🙂"}
            {"output":"🙂🙂🙂","input":"","instruction":"中文"}
            """)
        let s = try DatasetStats(path: path)
        #expect(s.items == 4)
        #expect(s.duplicates == 2)  // key order does not matter
        let instruction = try #require(s.fields.first { $0.field == "instruction" })
        #expect(instruction.min == 2 && instruction.max == 4 && instruction.p50 == 2 && instruction.p95 == 4)
        #expect(instruction.mean == 2.5)
        let output = try #require(s.fields.first { $0.field == "output" })
        #expect(output.empty == 1 && output.max == 3)
        #expect(s.fields.first { $0.field == "input" }?.empty == 3)
        #expect(s.table.contains("4 items"))
    }

    /// Nearest-rank percentiles agree with numpy's percentile(method="inverted_cdf") on 1…20 and 1…7.
    @Test func percentilesAreNearestRank() {
        #expect(DatasetStats.percentile(Array(1...20), 0.5) == 10)
        #expect(DatasetStats.percentile(Array(1...20), 0.95) == 19)
        #expect(DatasetStats.percentile(Array(1...7), 0.5) == 4)
        #expect(DatasetStats.percentile(Array(1...7), 0.95) == 7)
    }

    @Test func checkFindsEveryProblemWithItsLine() throws {
        let dir = TestFolder()
        var bytes = Data("""
            {"instruction":"ok","input":"","output":"好"}
            {"instruction":"ok","input":"","output":"好"}
            {"instruction":"empty","input":"","output":" "}
            {"instruction":"missing output"}
            {"instruction":"broken",
            {"instruction":"moji","input":"","output":"\(doubleEncode("教师模型生成训练数据"))"}

            """.utf8)
        bytes.append(contentsOf: Data(#"{"instruction":""#.utf8) + Data([0xB2, 0xE2]) + Data(#"","output":"x"}"#.utf8) + Data([0x0A]))
        let path = dir.write("c.jsonl", bytes)
        let fixed = dir.path + "/fixed.jsonl"
        let report = try DatasetChecker().check(path: path, fixMojibakeTo: fixed)
        #expect(report.kind == .alpaca)
        #expect(report.items == 7)
        let found = report.problems.map { "\($0.category.rawValue)@\($0.error.line ?? 0)" }
        #expect(found == ["duplicate@2", "empty@3", "schema@4", "json@5", "mojibake@6", "encoding@7"])
        #expect(report.problems[0].description.hasSuffix("c.jsonl:2: exact duplicate of line 1"))
        #expect(report.problems[4].error.field == "output")
        #expect(report.problems[4].description.contains("would be \"教师模型"))
        // The repaired copy has the Chinese back and checks clean of mojibake.
        #expect(dir.read("fixed.jsonl").contains("教师模型生成训练数据"))
        let again = try DatasetChecker().check(path: fixed)
        #expect(!again.problems.contains { $0.category == .mojibake })
    }

    @Test func cleanSamplesCheckClean() throws {
        for name in ["instructions", "commonsense_mc", "reasoning"] {
            let r = try DatasetChecker().check(path: repositoryRoot + "/datasets/\(name).jsonl")
            #expect(r.problems.isEmpty, "\(name): \(r.problems.first?.description ?? "")")
        }
        let mc = try DatasetReader.read(MultipleChoiceItem.self, from: repositoryRoot + "/datasets/commonsense_mc.jsonl")
        #expect(mc.count == 60 && mc.allSatisfy { $0.choices.map(\.label) == ["A", "B", "C", "D", "E"] })
        #expect(Set(mc.map(\.answer)) == ["A", "B", "C", "D", "E"])
    }

    @Test func truncatedArrayIsOneProblem() throws {
        let dir = TestFolder()
        let path = dir.write("t.json", "[\n{\"instruction\":\"a\",\"output\":\"b\"},\n{\"instruction\":")
        let r = try DatasetChecker().check(path: path)
        #expect(r.items == 1)
        #expect(r.problems.map(\.category) == [.json])
        #expect(r.problems.first?.error.line == 3)
    }
}

@Suite struct StatsTokenTests {
    @Test func tokenStatisticsUseTheGivenCounterAndKeepFieldOrder() throws {
        let dir = TestFolder()
        let path = dir.write("t.jsonl", """
            {"instruction":"a b c","input":"","output":"x y"}
            {"instruction":"a","input":"d e f g","output":"z"}
            """)
        let words: (String) -> Int = { $0.split(separator: " ").count }
        let s = try DatasetStats(path: path, tokenizer: "words", countTokens: words)
        #expect(s.fields.map(\.field) == ["instruction", "input", "output"])
        #expect(s.tokenFields.map(\.field) == ["instruction", "input", "output"])
        #expect(s.tokenFields[0].min == 1 && s.tokenFields[0].max == 3)
        #expect(s.tokenFields[1].max == 4 && s.tokenFields[2].mean == 1.5)
        #expect(s.table.contains("(lengths in tokens of words)"))
        #expect(try DatasetStats(path: path).tokenFields.isEmpty)
    }
}
