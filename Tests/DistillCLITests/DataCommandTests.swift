import DistillData
import DistillML
import Foundation
import Testing
@testable import DistillCLI

/// `distill data …` through the real command line entry point.
@Suite struct DataCommandTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    final class Folder {
        let path = NSTemporaryDirectory() + "distill-cli-data-\(UUID().uuidString)"
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func write(_ name: String, _ text: String) -> String {
            _ = FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8))
            return path + "/" + name
        }
    }

    /// Runs a command in process and returns the error it throws, if any.
    func runError(_ argv: [String]) async throws -> (any Error)? {
        guard case .command(let command, _) = try DistillCLI.resolve(argv) else { return nil }
        do { try await command.run() } catch { return error }
        return nil
    }

    @Test func malformedLineGivesFileLineAndExit1() async throws {
        let dir = Folder()
        let bad = dir.write("bad.jsonl", """
            {"instruction":"a","input":"","output":"b"}
            {"instruction":"a","input":"","output":"b"
            """)
        let out = dir.path + "/out.jsonl"
        #expect(await DistillCLI.main(["data", "convert", bad, "--to", "openai-chat", "--out", out]) == 1)
        let e = try await runError(["data", "convert", bad, "--to", "openai-chat", "--out", out])
        #expect("\(e.map { "\($0)" } ?? "")".hasPrefix(bad + ":2: not valid JSON"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let missingField = dir.write("m.jsonl", #"{"instruction":"a","input":""}"# + "\n")
        let e2 = try await runError(["data", "convert", missingField, "--to", "sharegpt", "--out", out])
        #expect("\(e2.map { "\($0)" } ?? "")".hasPrefix(missingField + ":1: field 'output': missing"))
        #expect(await DistillCLI.main(["data", "stats", bad]) == 1)
        #expect(await DistillCLI.main(["data", "check", bad]) == 1)
    }

    @Test func checkFlagsDoubleEncodedFileAndPassesCleanOnes() async throws {
        let dir = Folder()
        // "知识蒸馏" saved as UTF-8, read back as Windows-1252 and saved again.
        let broken = String(decoding: Array("知识蒸馏".utf8).map { b -> [UInt8] in
            let cp1252: [UInt8: UInt32] = [0x9F: 0x0178, 0x86: 0x2020, 0x8F: 0x8F, 0x8B: 0x2039, 0x92: 0x2019]
            let scalar = Unicode.Scalar(cp1252[b] ?? UInt32(b)) ?? "?"
            return Array(String(scalar).utf8)
        }.joined(), as: UTF8.self)
        let moji = dir.write("moji.jsonl", #"{"instruction":"解释","input":"","output":"\#(broken)"}"# + "\n")
        #expect(await DistillCLI.main(["data", "check", moji]) == 1)
        let e = try await runError(["data", "check", moji])
        #expect(e is DataCheckCommand.ProblemsFound)
        let report = try DatasetChecker().check(path: moji)
        #expect(report.problems.first?.description.contains("field 'output': looks double-encoded (UTF-8 read as Windows-1252)") == true)
        #expect(report.problems.first?.description.contains("would be \"知识蒸馏\"") == true)
        let fixed = dir.path + "/fixed.jsonl"
        #expect(await DistillCLI.main(["data", "check", moji, "--fix-mojibake", fixed]) == 1)
        #expect(await DistillCLI.main(["data", "check", fixed]) == 0)
        #expect(await DistillCLI.main(["data", "check", root + "/datasets/instructions.jsonl", root + "/datasets/reasoning.jsonl",
                                       root + "/datasets/commonsense_mc.jsonl"]) == 0)
    }

    @Test func convertRoundTripsTheSamplesThroughEveryFormat() async throws {
        let dir = Folder()
        let samples = root + "/datasets/instructions.jsonl"
        var current = samples
        for (i, f) in ["alpaca-json", "openai-chat", "sharegpt", "chat-jsonl", "alpaca-jsonl"].enumerated() {
            let next = dir.path + "/\(i).\(f)"
            #expect(await DistillCLI.main(["data", "convert", current, "--to", f, "--out", next]) == 0)
            current = next
        }
        #expect(try DatasetReader.read(InstructionRecord.self, from: current)
            == DatasetReader.read(InstructionRecord.self, from: samples))
    }

    @Test func splitStatsAndSynthRun() async throws {
        let dir = Folder()
        let synth = dir.path + "/r.jsonl"
        #expect(await DistillCLI.main(["data", "synth", "--kind", "date", "--n", "40", "--seed", "3", "--out", synth]) == 0)
        #expect(try DatasetReader.read(ReasoningItem.self, from: synth).count == 40)
        #expect(await DistillCLI.main(["data", "split", synth, "--test-size", "10"]) == 0)
        #expect(try DatasetReader.read(ReasoningItem.self, from: dir.path + "/r.test.jsonl").count == 10)
        #expect(try DatasetReader.read(ReasoningItem.self, from: dir.path + "/r.train.jsonl").count == 30)
        // Without --test-size a small file keeps 10% for testing (2,048 would leave nothing to train on).
        #expect(await DistillCLI.main(["data", "split", synth, "--train-out", dir.path + "/d.train.jsonl",
                                       "--test-out", dir.path + "/d.test.jsonl"]) == 0)
        #expect(try DatasetReader.read(ReasoningItem.self, from: dir.path + "/d.test.jsonl").count == 4)
        #expect(await DistillCLI.main(["data", "split", synth, "--test-size", "40"]) == 1)  // nothing left to train on
        #expect(await DistillCLI.main(["data", "stats", synth, "--json"]) == 0)
    }

    @Test func usageErrorsExit64AndHelpShowsDefaults() async throws {
        #expect(await DistillCLI.main(["data", "convert", "x.jsonl", "--to", "csv", "--out", "y"]) == 64)
        #expect(await DistillCLI.main(["data", "convert", "x.jsonl", "--out", "y"]) == 64)
        #expect(await DistillCLI.main(["data", "split"]) == 64)
        #expect(await DistillCLI.main(["data", "split", "a", "b"]) == 64)
        #expect(await DistillCLI.main(["data", "check", "--kind", "nope", "x"]) == 64)
        #expect(await DistillCLI.main(["data", "synth", "--seed", "-1", "--out", "x"]) == 64)
        guard case .help(let split) = try DistillCLI.resolve(["data", "split", "--help"]) else { Issue.record("no help"); return }
        #expect(split.contains("(default: min(2048, 10%))") && split.contains("(default: 0)"))
        guard case .help(let synth) = try DistillCLI.resolve(["data", "synth", "--help"]) else { Issue.record("no help"); return }
        #expect(synth.contains("(default: mixed)") && synth.contains("(default: 200)"))
        guard case .help(let group) = try DistillCLI.resolve(["data", "--help"]) else { Issue.record("no help"); return }
        for sub in ["stats", "split", "convert", "check", "synth"] { #expect(group.contains(sub)) }
    }
}

extension DataCommandTests {
    /// Token counts come from the real tokenizer (its parity with HF tokenizers is tested in DistillMLTests).
    static let tokenizerFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DistillMLTests/Fixtures/tokenizer/smollm2/tokenizer.json").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: tokenizerFixture), "needs the SmolLM2 tokenizer.json fixture"))
    func statsCountsTokensWithATokenizerJSON() async throws {
        let tokenizer = Self.tokenizerFixture
        let samples = root + "/datasets/instructions.jsonl"
        #expect(await DistillCLI.main(["data", "stats", samples, "--tokenizer", tokenizer, "--json"]) == 0)
        guard case .command(let command, _) = try DistillCLI.resolve(["data", "stats", samples, "--tokenizer", tokenizer]),
              let stats = command as? DataStatsCommand else { Issue.record("not a stats command"); return }
        #expect(stats.tokenizerPath == tokenizer)
        #expect(await DistillCLI.main(["data", "stats", samples, "--tokenizer", "/nonexistent/tokenizer.json"]) == 1)
    }
}

extension DataCommandTests {
    /// Token statistics agree with Hugging Face `tokenizers` (counts in Tests/DistillDataTests/Fixtures/data_reference.json,
    /// written by scripts/fixtures/data_fixtures.py), through tokenizer.json and, when cached, the GGUF model.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: tokenizerFixture), "needs the SmolLM2 tokenizer.json fixture"))
    func tokenStatisticsMatchHuggingFaceTokenizers() throws {
        struct Reference: Decodable { var instructions_smollm2_tokens: [String: [Int]] }
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/Tests/DistillDataTests/Fixtures/data_reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data).instructions_smollm2_tokens
        var tokenizers = [try Tokenizer(tokenizerJSONAt: Self.tokenizerFixture)]
        let gguf = "/root/.cache/distill/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        if FileManager.default.fileExists(atPath: gguf) { tokenizers.append(try Tokenizer(ggufAt: gguf)) }
        for tokenizer in tokenizers {
            let stats = try DatasetStats(path: root + "/datasets/instructions.jsonl", countTokens: { tokenizer.encode($0).count })
            for field in stats.tokenFields {
                let want = try #require(reference[field.field])
                #expect(field.min == want.min() && field.max == want.max(), "\(field.field)")
                #expect(abs(field.mean - Double(want.reduce(0, +)) / Double(want.count)) < 1e-9, "\(field.field)")
            }
            #expect(stats.tokenFields.count == 3)
        }
    }
}
