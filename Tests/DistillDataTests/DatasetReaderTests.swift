import Foundation
import Testing
@testable import DistillData

@Suite struct DatasetReaderTests {
    let alpacaLines = """
        {"instruction": "把这句话翻译成英文", "input": "我喜欢蒸馏 🍵", "output": "I like distillation 🍵"}

        {"instruction": "Name a primary colour.", "output": "Red"}
        """

    @Test func readsJSONLWithLineNumbersAndOptionalInput() throws {
        let dir = TestFolder()
        let path = dir.write("a.jsonl", alpacaLines)
        let reader = try DatasetReader(path: path)
        #expect(reader.container == .jsonLines)
        let items = try reader.readAll(InstructionRecord.self)
        #expect(items.map(\.line) == [1, 3])
        #expect(items[0].value.input == "我喜欢蒸馏 🍵")
        #expect(items[1].value.input == "")
    }

    @Test func readsPrettyJSONArrayStreamingAcrossChunkBoundaries() throws {
        // Braces and brackets inside strings, escaped quotes, nested arrays, CJK split across chunks.
        let array = """
            \u{FEFF}[
              {
                "instruction": "Echo {this} [and] \\"that\\"",
                "input": "",
                "output": "中文 } ] {"
              },
              {"instruction": "二", "input": "x", "output": "y"}
            ]

            """
        let dir = TestFolder()
        let path = dir.write("a.json", array)
        #expect(try DatasetReader(path: path).container == .jsonArray)
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            var scanner = try RawItemScanner(path: path, mode: .jsonArray, chunkSize: chunk)
            var lines: [Int] = []
            var decoded: [InstructionRecord] = []
            while let item = try scanner.next() {
                lines.append(item.line)
                decoded.append(try JSONDecoder().decode(InstructionRecord.self, from: item.bytes))
            }
            #expect(lines == [2, 7], "chunk \(chunk)")
            #expect(decoded.map(\.output) == ["中文 } ] {", "y"], "chunk \(chunk)")
            #expect(decoded.first?.instruction == "Echo {this} [and] \"that\"")
        }
        var jsonl = try RawItemScanner(path: dir.write("b.jsonl", alpacaLines), mode: .jsonLines, chunkSize: 5)
        var n = 0
        while try jsonl.next() != nil { n += 1 }
        #expect(n == 2)
    }

    @Test func malformedFilesGiveFileLineAndField() throws {
        let dir = TestFolder()
        func error(_ name: String, _ text: String) -> DataError? {
            let p = dir.write(name, text)
            do {
                _ = try DatasetReader(path: p).readAll(InstructionRecord.self)
                return nil
            } catch let e as DataError { return e } catch { return nil }
        }
        let missing = error("m.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\"}\n")
        #expect(missing?.line == 2)
        #expect(missing?.field == "output")
        #expect(missing?.description.hasSuffix("m.jsonl:2: field 'output': missing; a Alpaca instruction item looks like "
            + InstructionRecord.expectedShape) == true)
        #expect(error("arr.jsonl", "[1, 2]\n")?.message.contains("item 1 is not a JSON object") == true)  // "[" means a JSON array
        #expect(error("str.jsonl", "\"just text\"\n")?.message.hasPrefix("is not a JSON object") == true)
        let type = error("t.jsonl", "{\"instruction\":1,\"output\":\"b\"}")
        #expect(type?.field == "instruction")
        let syntax = error("s.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n\n{\"instruction\": \"a\", oops}\n")
        #expect(syntax?.line == 3)
        #expect(syntax?.message.hasPrefix("not valid JSON") == true)
        let truncated = error("tr.json", "[\n{\"instruction\":\"a\",\"output\":\"b\"},\n{\"instruction\":\"a\",")
        #expect(truncated?.line == 3)
        #expect(truncated?.message.contains("truncated") == true)
        #expect(error("nc.json", "[{\"instruction\":\"a\",\"output\":\"b\"} {}]")?.message.contains("expected ','") == true)
        #expect(error("na.json", "[1]")?.message.contains("not a JSON object") == true)
        #expect(error("empty.jsonl", " \n ")?.message.contains("empty") == true)
        #expect(error("nofile.jsonl-missing", "").map { _ in true } == true)
    }

    @Test func anyShapeAsJSONValues() throws {
        let dir = TestFolder()
        let path = dir.write("v.json", "[{\"b\": 1, \"a\": [\"中\"]},\n {\"x\": null}]")
        var seen: [Numbered<JSONValue>] = []
        try DatasetReader(path: path).forEachValue { seen.append($0) }
        #expect(seen.map(\.line) == [1, 2])
        #expect(seen[0].value.keys == ["b", "a"])
        #expect(seen[1].value["x"] == .null)
        let bad = dir.write("bad.jsonl", "{\"a\":1}\n{\"a\":}\n")
        #expect(throws: DataError.self) { try DatasetReader(path: bad).forEachValue { _ in } }
    }

    @Test func invalidUTF8IsReportedWithLineAndByteOffset() throws {
        let dir = TestFolder()
        var bytes = Data("{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"".utf8)
        let offset = bytes.count
        bytes.append(contentsOf: [0xD6, 0xD0, 0xCE, 0xC4])  // "中文" in GBK
        bytes.append(contentsOf: Data("\",\"output\":\"b\"}\n".utf8))
        let path = dir.write("gbk.jsonl", bytes)
        do {
            _ = try DatasetReader(path: path).readAll(InstructionRecord.self)
            Issue.record("GBK accepted as UTF-8")
        } catch let e as DataError {
            #expect(e.line == 2)
            #expect(e.message.contains("byte offset \(offset) "))
            #expect(e.message.contains("0xD6"))
        }
    }

    @Test func doubleEncodedTextIsRejectedOnRead() throws {
        let dir = TestFolder()
        let broken = doubleEncode("知识蒸馏把大模型的能力迁移到小模型")
        let path = dir.write("moji.jsonl", "{\"instruction\":\"ok\",\"output\":\"\(broken)\"}\n")
        do {
            _ = try DatasetReader(path: path).readAll(InstructionRecord.self)
            Issue.record("mojibake accepted")
        } catch let e as DataError {
            #expect(e.line == 1)
            #expect(e.field == "output")
            #expect(e.message.contains("looks double-encoded (UTF-8 read as Windows-1252)"))
            #expect(e.message.contains("would be \"知识蒸馏"))
        }
        #expect(try DatasetReader(path: path).readAll(InstructionRecord.self, checkEncoding: false).count == 1)
    }
}
