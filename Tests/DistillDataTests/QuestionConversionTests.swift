import Foundation
import Testing
@testable import DistillData

/// The one-way sources: multiple-choice and reasoning items become Alpaca items (and from there every target).
@Suite struct QuestionConversionTests {
    let mcSamples = repositoryRoot + "/datasets/commonsense_mc.jsonl"
    let reasoningSamples = repositoryRoot + "/datasets/reasoning.jsonl"

    /// Reads a converted file back as Alpaca items, whatever target it was written in.
    func alpaca(from file: String, dir: TestFolder) throws -> [InstructionRecord] {
        let back = dir.path + "/back-\(UUID().uuidString).jsonl"
        _ = try DatasetConverter(to: .alpacaJSONL).convert(input: file, output: back)
        return try DatasetReader.read(InstructionRecord.self, from: back)
    }

    @Test func formatsAreDetectedFromTheSamplesKeys() throws {
        #expect(try DatasetFormat.detect(path: mcSamples) == .multipleChoice)
        #expect(try DatasetFormat.detect(path: reasoningSamples) == .reasoning)
        #expect(DatasetFormat.targets == [.alpacaJSON, .alpacaJSONL, .chatJSONL, .openAIChat, .shareGPT, .trlPromptCompletion, .dpo])
    }

    @Test func multipleChoiceSamplesConvertToEveryTarget() throws {
        let items = try DatasetReader.read(MultipleChoiceItem.self, from: mcSamples)
        #expect(items.count == 60)
        let dir = TestFolder()
        for format in DatasetFormat.targets where format != .dpo {  // DPO needs preference pairs
            let out = dir.path + "/mc.\(format.rawValue)"
            let s = try DatasetConverter(to: format).convert(input: mcSamples, output: out)
            #expect(s.items == items.count && s.from == .multipleChoice && s.lossyLines.isEmpty)
            let rows = try alpaca(from: out, dir: dir)
            #expect(rows.count == items.count)
            for (row, item) in zip(rows, items) {
                // Split back at the first blank line, the user turn is the same text the Alpaca row holds.
                #expect(AlpacaChatMapping.userTurn(instruction: row.instruction, input: row.input)
                    == QuestionItemMapping.alpaca(item).instruction, "\(format) \(item.id)")
                #expect(row.output == item.answer, "\(format) \(item.id)")
            }
        }
    }

    @Test func multipleChoicePromptHasQuestionChoicesAndRequestInTheQuestionsLanguage() throws {
        let items = try DatasetReader.read(MultipleChoiceItem.self, from: mcSamples)
        let dir = TestFolder()
        let out = dir.path + "/mc.jsonl"
        _ = try DatasetConverter(to: .alpacaJSONL).convert(input: mcSamples, output: out)
        let rows = try DatasetReader.read(InstructionRecord.self, from: out)
        #expect(rows.map(\.id) == items.map(\.id))
        var chinese = 0
        for (row, item) in zip(rows, items) {
            let paragraphs = row.instruction.components(separatedBy: "\n\n")
            #expect(paragraphs.count == 3)
            #expect(paragraphs.first == item.question)
            #expect(paragraphs.dropFirst().first?.split(separator: "\n").map(String.init)
                == item.choices.map { "\($0.label). \($0.text)" })
            let isChinese = item.question.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
            if isChinese { chinese += 1 }
            #expect(paragraphs.last == (isChinese ? "请用正确选项的字母作答。" : "Answer with the letter of the correct choice."))
            #expect(row.input.isEmpty)
            #expect(row.output.count == 1 && "ABCDE".contains(row.output), "gold is a bare letter")
        }
        #expect(chinese == 20)  // datasets/README.md: 20 of the 60 are in Chinese
        let csmc041 = try #require(rows.first { $0.id == "csmc-041" })
        #expect(csmc041.instruction == """
            夏天天气很热时，人们通常会怎么做？

            A. 穿厚棉袄
            B. 生火取暖
            C. 戴手套
            D. 开空调或吹风扇
            E. 喝热姜汤出汗

            请用正确选项的字母作答。
            """)
        #expect(csmc041.output == "D")
        // The letters are not all one letter (the choices were shuffled when the samples were made).
        #expect(Set(rows.map(\.output)).count >= 4)
    }

    @Test func reasoningSamplesConvertToEveryTargetWithTheGoldAnswer() throws {
        let items = try DatasetReader.read(ReasoningItem.self, from: reasoningSamples)
        #expect(items.count == 200)
        let dir = TestFolder()
        for format in DatasetFormat.targets where format != .dpo {  // DPO needs preference pairs
            let out = dir.path + "/r.\(format.rawValue)"
            let s = try DatasetConverter(to: format).convert(input: reasoningSamples, output: out)
            #expect(s.items == 200 && s.from == .reasoning)
            let rows = try alpaca(from: out, dir: dir)
            #expect(rows.map(\.instruction) == items.map(\.question), "\(format)")
            #expect(rows.map(\.output) == items.map(\.answer), "\(format)")
            #expect(rows.allSatisfy { $0.input.isEmpty })
        }
        let direct = dir.path + "/r.jsonl"
        _ = try DatasetConverter(from: .reasoning, to: .alpacaJSONL).convert(input: reasoningSamples, output: direct)
        #expect(try DatasetReader.read(InstructionRecord.self, from: direct).map(\.id) == items.map(\.id))
    }

    @Test func idIsKeptWhereTheTargetHasAPlaceForIt() throws {
        let dir = TestFolder()
        let input = dir.write("one.jsonl", """
            {"id":"q-1","question":"哪个是水果？ 🍎","choices":[{"label":"A","text":"苹果"},{"label":"B","text":"石头"}],"answer":"A"}
            """)
        for (format, hasID) in [(DatasetFormat.alpacaJSONL, true), (.alpacaJSON, true), (.shareGPT, true),
                                (.chatJSONL, false), (.openAIChat, false)] {
            let out = dir.path + "/one.\(format.rawValue)"
            _ = try DatasetConverter(to: format).convert(input: input, output: out)
            let text = try String(contentsOfFile: out, encoding: .utf8)
            #expect(text.contains(#""id":"q-1""#) == hasID, "\(format)")
        }
    }

    @Test func commonsenseQANativeShapeIsReadToo() throws {
        let dir = TestFolder()
        let input = dir.write("cqa.jsonl", """
            {"answerKey":"C","id":"cqa-1","question":{"question_concept":"fridge","choices":[{"label":"A","text":"oven"},{"label":"B","text":"shelf"},{"label":"C","text":"fridge"}],"stem":"Where is milk kept cold?"}}
            """)
        #expect(try DatasetFormat.detect(path: input) == .multipleChoice)
        let out = dir.path + "/cqa.out.jsonl"
        _ = try DatasetConverter(to: .alpacaJSONL).convert(input: input, output: out)
        let row = try #require(try DatasetReader.read(InstructionRecord.self, from: out).first)
        #expect(row == InstructionRecord(instruction: "Where is milk kept cold?\n\nA. oven\nB. shelf\nC. fridge\n\n"
            + "Answer with the letter of the correct choice.", input: "", output: "C", id: "cqa-1"))
    }

    @Test func sourceOnlyTargetsAreRefusedBeforeWritingAnything() throws {
        let dir = TestFolder()
        for target in [DatasetFormat.multipleChoice, .reasoning] {
            let out = dir.path + "/x.\(target.rawValue)"
            #expect { try DatasetConverter(to: target).convert(input: mcSamples, output: out) } throws: {
                ($0 as? DataError)?.message.contains("source format only") == true
            }
            #expect(!FileManager.default.fileExists(atPath: out))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
        // The wrong source format names the line and the missing field.
        #expect { try DatasetConverter(from: .reasoning, to: .alpacaJSONL).convert(input: mcSamples, output: dir.path + "/y") }
            throws: { ($0 as? DataError).map { $0.line == 1 && $0.field == "kind" } == true }
    }

    @Test func cjkDetection() {
        #expect(QuestionItemMapping.containsCJK("夏天天气很热时"))
        #expect(QuestionItemMapping.containsCJK("Is 𠀀 rare?"))  // extension B
        #expect(!QuestionItemMapping.containsCJK("Where is the milk? 🥛 café"))
    }
}
