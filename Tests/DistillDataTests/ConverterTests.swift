import Foundation
import Testing
@testable import DistillData

@Suite struct ConverterTests {
    let samples = repositoryRoot + "/datasets/instructions.jsonl"

    /// Alpaca → every format → Alpaca gives back every item unchanged (Chinese and emoji included).
    @Test func everyFormatRoundTripsTheSamples() throws {
        let original = try DatasetReader.read(InstructionRecord.self, from: samples)
        #expect(original.count == 100)
        let dir = TestFolder()
        for format in DatasetFormat.targets where format != .dpo {  // DPO needs preference pairs, not SFT items
            let there = dir.path + "/there.\(format.rawValue)"
            let back = dir.path + "/back.jsonl"
            let s1 = try DatasetConverter(to: format).convert(input: samples, output: there)
            #expect(s1.items == 100 && s1.from == .alpacaJSONL)
            #expect(s1.lossyLines.isEmpty)
            #expect(try DatasetFormat.detect(path: there) == (format == .openAIChat ? .chatJSONL : format))
            _ = try DatasetConverter(to: .alpacaJSONL).convert(input: there, output: back)
            #expect(try DatasetReader.read(InstructionRecord.self, from: back) == original, "\(format)")
        }
    }

    /// A chain through all formats, with a system prompt, ends where it started.
    @Test func chainThroughAllFormatsWithSystemPrompt() throws {
        let dir = TestFolder()
        let start = dir.write("s.jsonl", """
            {"instruction":"翻译成英文","input":"你好，世界 🌍","output":"Hello, world 🌍","system":"你是翻译"}
            {"instruction":"Say hi","output":"hi 👋"}
            """)
        var current = start
        for (i, f) in [DatasetFormat.openAIChat, .shareGPT, .chatJSONL, .alpacaJSON, .alpacaJSONL].enumerated() {
            let next = dir.path + "/step\(i).\(f == .alpacaJSON ? "json" : "jsonl")"
            _ = try DatasetConverter(to: f).convert(input: current, output: next)
            current = next
        }
        #expect(try DatasetReader.read(InstructionRecord.self, from: current)
            == DatasetReader.read(InstructionRecord.self, from: start))
        let chat = try DatasetReader.read(ChatRecord.self, from: dir.path + "/step0.jsonl")
        #expect(chat[0].messages.map(\.role) == ["system", "user", "assistant"])
        #expect(chat[0].messages[1].content == "翻译成英文\n\n你好，世界 🌍")
        let sharegpt = dir.read("step1.jsonl")
        #expect(sharegpt.contains(#""from":"human""#) && sharegpt.contains(#""from":"gpt""#))
    }

    @Test func lossyInstructionsAreReportedAndMultiTurnChatsRefused() throws {
        let dir = TestFolder()
        let a = dir.write("a.jsonl", #"{"instruction":"Part one.\n\nPart two.","input":"x","output":"y"}"# + "\n")
        let s = try DatasetConverter(to: .chatJSONL).convert(input: a, output: dir.path + "/c.jsonl")
        #expect(s.lossyLines == [1])
        let multi = dir.write("m.jsonl", """
            {"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}
            {"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"},{"role":"assistant","content":"d"}]}
            """)
        do {
            _ = try DatasetConverter(to: .alpacaJSONL).convert(input: multi, output: dir.path + "/x.jsonl")
            Issue.record("multi-turn chat became Alpaca")
        } catch let e as DataError {
            #expect(e.file == multi && e.line == 2 && e.field == "messages")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/x.jsonl"))  // nothing half-written
        let tool = dir.write("t.jsonl", #"{"messages":[{"role":"user","content":"a"},{"role":"tool","content":"b"},{"role":"assistant","content":"c"}]}"# + "\n")
        #expect(throws: DataError.self) { try DatasetConverter(to: .openAIChat).convert(input: tool, output: dir.path + "/o.jsonl") }
    }
}
