import Foundation
import Testing
@testable import DistillData

@Suite struct RecordTests {
    let decoder = JSONDecoder()

    @Test func chatReadsMessagesAndShareGPT() throws {
        let sharegpt = #"{"conversations":[{"from":"system","value":"be brief"},{"from":"human","value":"你好"},{"from":"gpt","value":"你好！👋"}]}"#
        let chat = try decoder.decode(ChatRecord.self, from: Data(sharegpt.utf8))
        #expect(chat.messages.map(\.role) == ["system", "user", "assistant"])
        #expect(chat.messages[2].content == "你好！👋")
        let written = String(decoding: try JSONLines.encoder.encode(chat), as: UTF8.self)
        #expect(written.hasPrefix(#"{"messages":[{"content":"be brief","role":"system"}"#))
        #expect(chat.shareGPT.conversations.map(\.from) == ["system", "human", "gpt"])
        #expect(throws: DecodingError.self) {
            try decoder.decode(ChatRecord.self, from: Data(#"{"conversations":[{"from":"bot","value":"x"}]}"#.utf8))
        }
    }

    @Test func multipleChoiceReadsFlatAndCommonsenseQANativeShapes() throws {
        let native = #"{"answerKey":"B","id":"q1","question":{"question_concept":"x","choices":[{"label":"A","text":"河"},{"label":"B","text":"海"}],"stem":"鲸鱼住在哪里？"}}"#
        let item = try decoder.decode(MultipleChoiceItem.self, from: Data(native.utf8))
        #expect(item.question == "鲸鱼住在哪里？")
        #expect(item.answer == "B")
        #expect(item.answerText == "海")
        #expect(item.formattedChoices == "A. 河\nB. 海")
        let flat = try JSONLines.encoder.encode(item)
        #expect(try decoder.decode(MultipleChoiceItem.self, from: flat) == item)
        let wrongLabel = #"{"id":"q","question":"?","choices":[{"label":"A","text":"a"}],"answer":"E"}"#
        #expect(throws: DecodingError.self) { try decoder.decode(MultipleChoiceItem.self, from: Data(wrongLabel.utf8)) }
    }

    @Test func generationAndRationaleUseTheWireKeys() throws {
        let g = GenerationRecord(instruction: "i", input: "", referenceOutput: "参考", generateOutput: "生成")
        let json = String(decoding: try JSONLines.encoder.encode(g), as: UTF8.self)
        #expect(json == #"{"generate_output":"生成","input":"","instruction":"i","reference_output":"参考"}"#)
        let seedOrder = String(decoding: g.seedOrderJSON, as: UTF8.self)
        #expect(seedOrder == #"{"instruction":"i","input":"","reference_output":"参考","generate_output":"生成"}"#)
        let tricky = GenerationRecord(instruction: "a/b \"q\"\n", input: "🐱", referenceOutput: "", generateOutput: "\u{1}")
        #expect(try JSONDecoder().decode(GenerationRecord.self, from: tricky.seedOrderJSON) == tricky)
        let r = RationaleRecord(id: "1", question: "q", rationale: "r", answer: "A", gold: "A", correct: true)
        let rj = String(decoding: try JSONLines.encoder.encode(r), as: UTF8.self)
        #expect(rj == #"{"answer":"A","correct":true,"gold":"A","id":"1","question":"q","rationale":"r"}"#)
    }

    @Test func alpacaWritesInputAlwaysAndSystemOnlyWhenPresent() throws {
        let a = InstructionRecord(instruction: "i", output: "o")
        #expect(String(decoding: try JSONLines.encoder.encode(a), as: UTF8.self) == #"{"input":"","instruction":"i","output":"o"}"#)
        let s = InstructionRecord(instruction: "i", output: "o", system: "s")
        #expect(try decoder.decode(InstructionRecord.self, from: try JSONLines.encoder.encode(s)) == s)
    }
}
