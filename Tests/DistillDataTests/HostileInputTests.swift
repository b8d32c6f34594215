import DistillTestSupport
import Foundation
import Testing
@testable import DistillData

/// Bad paths, long lines and deep nesting: every one an error naming the file and the cause, never a crash, and
/// reading time linear in the line's length.
@Suite struct HostileInputTests {
    @Test func aDirectoryGivenAsAFileIsCalledADirectory() throws {
        let dir = TestFolder()
        let opens: [() throws -> Void] = [{ _ = try DatasetReader(path: dir.path) }, { _ = try JSONLines.decodeAll(InstructionRecord.self, from: dir.path) },
                     { _ = try JSONLinesReader(checking: dir.path) }]
        for open in opens {
            let e = try #require(throws: DataError.self) { try open() }
            #expect(e.file == dir.path)
            #expect(e.message.contains("is a directory"), "\(e)")
        }
        let w = try #require(throws: DataError.self) { try JSONLines.writeAtomically(Data("x".utf8), to: dir.path) }
        #expect(w.file == dir.path && w.message.contains("directory"), "\(w)")
    }

    @Test func writingUnderAFileOrIntoProcNamesThePathAndTheCause() throws {
        // Tests run as root, so a chmod-ed folder is no obstacle; a path under a regular file always is.
        let dir = TestFolder()
        let file = dir.write("plain.txt", "not a folder")
        let target = file + "/out.jsonl"
        let e = try #require(throws: DataError.self) { try JSONLines.writeAtomically(Data("{}\n".utf8), to: target) }
        #expect(e.file == target)
        #expect(e.message.contains("a part of the path is a file, not a folder"), "\(e)")
        let a = try #require(throws: DataError.self) { _ = try JSONLinesAppender(path: target) }
        #expect(a.file == target && a.message.contains("not a folder"), "\(a)")
        // /proc refuses new files whoever asks.
        let p = try #require(throws: DataError.self) { try JSONLines.writeAtomically(Data("x".utf8), to: "/proc/distill-out.json") }
        #expect(p.file == "/proc/distill-out.json" && p.message.hasPrefix("cannot write: "), "\(p)")
        #expect(!p.message.contains("Error Domain"), "\(p)")
    }

    @Test func aFullDiskIsSaidInWords() throws {
        // /dev/full answers every write with ENOSPC, as a full disk does.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let appender = try JSONLinesAppender(path: "/dev/full")
        let e = try #require(throws: DataError.self) { try appender.append(Data("{}".utf8)) }
        #expect(e.file == "/dev/full" && e.message.contains("the disk is full"), "\(e)")
    }

    @Test func aMissingFileWithAMangledNameSaysItIsNotUTF8() throws {
        let e = try #require(throws: DataError.self) { _ = try DatasetReader(path: "/tmp/caf\u{FFFD}-\(UUID().uuidString).jsonl") }
        #expect(e.message.contains("not UTF-8"), "\(e)")
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() throws {
        let dir = TestFolder()
        let deep = #"{"instruction": "x", "input": "#.utf8 + Array(repeating: UInt8(ascii: "["), count: 100_000) + Array("\n".utf8)
        let path = dir.write("deep.jsonl", Data(deep))
        let e = try #require(throws: DataError.self) { try DatasetReader(path: path).forEachValue { _ in } }
        #expect(e.file == path && e.line == 1 && e.message.contains("nested more than \(JSONLimits.maxDepth)"), "\(e)")
    }

    @Test func foundationDecodersRefuseDeepNestingToo() throws {
        // Records and journals go through JSONDecoder, model configs through JSONSerialization: both must refuse
        // 100,000 levels with an error, as the project's own parsers do.
        let deep = Data(#"{"instruction": "#.utf8 + Array(repeating: UInt8(ascii: "["), count: 100_000))
        #expect(throws: (any Error).self) { try JSONDecoder().decode(InstructionRecord.self, from: deep) }
        #expect(throws: (any Error).self) { try JSONSerialization.jsonObject(with: deep) }
        let dir = TestFolder()
        let path = dir.write("deep.jsonl", deep + Data("\n".utf8))
        let e = try #require(throws: DataError.self) { try DatasetReader.read(InstructionRecord.self, from: path) }
        #expect(e.file == path && e.line == 1, "\(e)")
    }

    /// Seconds to read every line of `path` with each line reader: JSONLinesReader, and DatasetReader's items.
    static func readTimes(_ path: String) throws -> [Double] {
        var start = Date()
        var bytes = 0
        for line in JSONLinesReader(path: path, chunkSize: 64 << 10) { bytes += line.bytes.count }
        let lines = Date().timeIntervalSince(start)
        start = Date()
        var it = try DatasetReader(path: path).makeRawIterator()
        while let item = try it.next() { bytes += item.bytes.count }
        #expect(bytes > 0)
        return [lines, Date().timeIntervalSince(start)]
    }

    @Test func longLinesAreReadInLinearTime() throws {
        let dir = TestFolder()
        func line(_ megabytes: Int) -> Data {
            var d = Data(#"{"instruction": "长"#.utf8)
            d.append(Data(repeating: UInt8(ascii: "a"), count: megabytes << 20))
            d.append(Data("\"}\n{\"instruction\": \"short\"}\n".utf8))
            return d
        }
        let small = dir.write("1mb.jsonl", line(1)), big = dir.write("32mb.jsonl", line(32))
        _ = try Self.readTimes(small)  // warm up
        var t1 = [Double.infinity, .infinity]
        for _ in 0..<3 { t1 = zip(t1, try Self.readTimes(small)).map { min($0, $1) } }
        let t32 = try Self.readTimes(big)
        // Linear: 32× the bytes in at most 8 × 32 the time, plus 2 s for page faults on first touching 32 MiB and a
        // busy CI machine (today ~0.2 s in all); the old line reader took 14.6 s here, rescanning the line per chunk.
        for (name, (a, b)) in zip(["JSONLinesReader", "DatasetReader"], zip(t1, t32)) {
            #expect(b < 8 * 32 * a + 2.0, "\(name): 1 MiB line \(a) s, 32 MiB line \(b) s: not linear")
            print(String(format: "line reading, %@: 1 MiB line %.4f s, 32 MiB line %.4f s (%.1f×)", name, a, b, b / max(a, 1e-9)))
        }
    }
}

/// Bounded fuzzing of the dataset readers (JSONL and JSON arrays, raw, as values and as records); see
/// DISTILL_FUZZ_SECONDS. Every refusal must be a DataError naming the file, and reading never crashes.
@Suite struct DatasetFuzzTests {
    static let jsonl = """
        {"instruction": "把这句话翻译成英文", "input": "我喜欢蒸馏 🍵", "output": "I like distillation 🍵"}
        {"instruction": "Name a primary colour.", "output": "Red", "n": 12, "x": [1, 2.5e3, -7, {"k": null}]}

        {"instruction": "Count", "input": "1 2 3", "output": "4", "esc": "\\u00e9\\n\\"q\\" \\ud83d\\ude00"}
        """

    static let array = """
        \u{FEFF}[
          {"instruction": "Echo {this} [and] \\"that\\"", "input": "", "output": "中文 } ] {"},
          {"instruction": "Two", "input": "x = 1", "output": "2", "list": [[1], [2, [3]]], "n": 2147483647}
        ]
        """

    func fuzz(_ name: String, seeds: [String], file: String) throws {
        let dir = TestFolder()
        let path = dir.path + "/" + file
        var mutator = FuzzMutator(seed: 0xDA7A)
        var run = FuzzRun(name)
        let seedBytes = seeds.map { Array($0.utf8) }
        while run.next() {
            try Data(mutator.mutate(seedBytes)).write(to: URL(fileURLWithPath: path))
            do {
                let reader = try DatasetReader(path: path)
                var values = 0
                try reader.forEachValue { _ in values += 1 }
                _ = try reader.readAll(InstructionRecord.self, checkEncoding: true)
                for line in JSONLinesReader(path: path) { _ = try? JSONValue.parse(line.bytes) }
                run.record(accepted: true)
            } catch let e as DataError {
                #expect(e.file == path && !e.message.isEmpty, "\(name): \(e)")
                run.record(accepted: false)
            } catch {
                Issue.record("\(name): unlocated error \(type(of: error)): \(error)")
            }
        }
        print(run.summary)
        #expect(run.inputs > 0)
    }

    @Test func jsonlDatasetsNeverCrash() throws { try fuzz("dataset JSONL", seeds: [Self.jsonl], file: "fuzz.jsonl") }
    @Test func jsonArrayDatasetsNeverCrash() throws { try fuzz("dataset JSON array", seeds: [Self.array, Self.jsonl], file: "fuzz.json") }
}
