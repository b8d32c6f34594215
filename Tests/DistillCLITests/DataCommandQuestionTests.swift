import DistillData
import DistillJudge
import Foundation
import Testing
@testable import DistillCLI

/// `distill data convert` on the multiple-choice and reasoning samples, and rule scoring of what it produces.
@Suite struct DataCommandQuestionTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Converts `source` to Alpaca JSONL through the command line and reads it back the way `distill generate` does.
    func convertAndReadAsTestSet(_ source: String, dir: String) async throws -> [GenerateCommand.TestItem] {
        let out = dir + "/" + URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent + ".alpaca.jsonl"
        #expect(await DistillCLI.main(["data", "convert", source, "--to", "alpaca-jsonl", "--out", out]) == 0)
        return try DatasetReader(path: out).readAll(GenerateCommand.TestItem.self).map(\.value)
    }

    /// Writes a generation file with the given outputs and scores it with `distill judge --score MODE`.
    func ruleScores(_ items: [GenerateCommand.TestItem], outputs: [String], mode: String, dir: String, name: String)
        async throws -> [Int] {
        let path = dir + "/\(name).jsonl"
        let lines = try zip(items, outputs).map { item, output in
            String(decoding: try JSONLines.encoder.encode(GenerationRecord(instruction: item.instruction, input: item.input,
                referenceOutput: item.reference, generateOutput: output)), as: UTF8.self) + "\n"
        }
        try lines.joined().write(toFile: path, atomically: true, encoding: .utf8)
        #expect(await DistillCLI.main(["judge", "--score", mode, "--inputs", path, "--out", dir + "/\(name)-judged"]) == 0)
        return try JSONLines.decodeAll(Judgment.self, from: dir + "/\(name)-judged/judgments.jsonl")
            .sorted { $0.item < $1.item }.map { $0.scores?[AnswerScorer.criterion] ?? -1 }
    }

    @Test func multipleChoiceSamplesBecomeATestSetThatChoiceScoringReads() async throws {
        let dir = try CLIFiles.folder()
        let source = root + "/datasets/commonsense_mc.jsonl"
        let gold = try DatasetReader.read(MultipleChoiceItem.self, from: source)
        let items = try await convertAndReadAsTestSet(source, dir: dir)
        #expect(items.count == 60)
        #expect(items.map(\.reference) == gold.map(\.answer))
        #expect(items.allSatisfy { $0.input.isEmpty })
        let chinese = try #require(items.first { $0.instruction.hasPrefix("夏天天气很热时") })
        #expect(chinese.instruction.hasSuffix("\nC. 戴手套\nD. 开空调或吹风扇\nE. 喝热姜汤出汗\n\n请用正确选项的字母作答。"))
        #expect(items[0].instruction.hasSuffix("\n\nAnswer with the letter of the correct choice."))

        // Answers phrased the ways models write them score 1; the next letter over scores 0.
        let right = items.enumerated().map { i, item in
            ["答案是 \(item.reference)", "The answer is \(item.reference).", "(\(item.reference))", "**\(item.reference)**"][i % 4]
        }
        #expect(try await ruleScores(items, outputs: right, mode: "choice", dir: dir, name: "right") == Array(repeating: 1, count: 60))
        let letters = Array("ABCDE")
        let wrong = items.map { item in
            String(letters[((letters.firstIndex(of: Character(item.reference)) ?? 0) + 1) % letters.count])
        }
        #expect(try await ruleScores(items, outputs: wrong, mode: "choice", dir: dir, name: "wrong") == Array(repeating: 0, count: 60))
    }

    @Test func reasoningSamplesBecomeATestSetThatNumericAndExactScoringRead() async throws {
        let dir = try CLIFiles.folder()
        let source = root + "/datasets/reasoning.jsonl"
        let gold = try DatasetReader.read(ReasoningItem.self, from: source)
        let items = try await convertAndReadAsTestSet(source, dir: dir)
        #expect(items.count == 200)
        #expect(items.map(\.instruction) == gold.map(\.question))
        #expect(items.map(\.reference) == gold.map(\.answer))

        let integers = items.filter { Int($0.reference) != nil }
        #expect(integers.count > 50)
        let right = integers.map { "Step by step … so the answer is \($0.reference)." }
        #expect(try await ruleScores(integers, outputs: right, mode: "numeric", dir: dir, name: "int-right")
            == Array(repeating: 1, count: integers.count))
        let wrong = integers.map { "答案：\((Int($0.reference) ?? 0) + 1)" }
        #expect(try await ruleScores(integers, outputs: wrong, mode: "numeric", dir: dir, name: "int-wrong")
            == Array(repeating: 0, count: integers.count))
        // Dates and weekdays are scored by exact match (numeric would read only the day of a date).
        let others = items.filter { Int($0.reference) == nil }
        #expect(others.count == 200 - integers.count)
        #expect(try await ruleScores(others, outputs: others.map { $0.reference + "." }, mode: "exact", dir: dir, name: "other")
            == Array(repeating: 1, count: others.count))
    }

    @Test func sourceOnlyFormatsAreRefusedAsTargetsAndNamedInHelp() async throws {
        let dir = try CLIFiles.folder()
        let mc = root + "/datasets/commonsense_mc.jsonl"
        for target in ["mc", "reasoning"] {
            #expect(await DistillCLI.main(["data", "convert", mc, "--to", target, "--out", dir + "/x"]) == 64)
            #expect { try DistillCLI.resolve(["data", "convert", mc, "--to", target, "--out", dir + "/x"]) } throws: {
                ($0 as? UsageError)?.message.contains("'\(target)' can only be read") == true
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
        // An explicit --from that does not fit the file is a data error naming the line: exit 1.
        let instructions = root + "/datasets/instructions.jsonl"
        #expect(await DistillCLI.main(["data", "convert", instructions, "--from", "mc", "--to", "sharegpt", "--out", dir + "/y"]) == 1)
        #expect(await DistillCLI.main(["data", "convert", mc, "--from", "mc", "--to", "sharegpt", "--out", dir + "/z"]) == 0)
        guard case .help(let help) = try DistillCLI.resolve(["data", "convert", "--help"]) else { Issue.record("no help"); return }
        #expect(help.contains("mc ") && help.contains("reasoning ") && help.contains("--score choice"))
        #expect(help.contains("output format: alpaca-json, alpaca-jsonl, chat-jsonl, openai-chat, sharegpt, trl-prompt-completion, dpo\n"))
    }
}
