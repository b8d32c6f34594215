import DistillData
import Foundation
import Testing
@testable import DistillJudge

struct RubricTests {
    static let promptsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../prompts").standardized.path

    @Test func seed000RubricHasFourCriteria() throws {
        let r = try Rubric.load(Self.promptsDir + "/judge.txt")
        #expect(r.criterionNames == ["Correctness", "Completeness", "Relevance", "Fluency"])
        #expect(r.scale == 0...5)
        let m = try r.messages(for: GenerationRecord(instruction: "说一个颜色", input: "", referenceOutput: "红色", generateOutput: "蓝色 💙"))
        #expect(m.count == 2)
        #expect(m[0].content.contains(#"{"reason": "<one or two sentences>", "Correctness": <0-5>"#))
        #expect(m[0].content.contains("1. **Correctness**: Is the information accurate and logical?"))
        #expect(m[1].content.contains("### Generated Output:\n蓝色 💙"))
        #expect(r.version.count == 64)
    }

    @Test func seed002ExplanationRubric() throws {
        let r = try Rubric.load(Self.promptsDir + "/judge-explanation.txt")
        #expect(r.criterionNames == ["Plausibility", "Understandability", "Completeness", "Satisfaction", "Contrastiveness"])
        #expect(r.scale == 1...5)
        #expect(r.jsonSchema.contains(#""Contrastiveness":{"type":"integer","enum":[1,2,3,4,5]}"#))
    }

    @Test func userRubricFromText() throws {
        let text = """
        name: tone
        scale: 1-3
        criterion: Politeness | Is it polite?
        === system ===
        Score {criteria} from {scale_min} to {scale_max}. Reply {reply_format}
        === user ===
        {generate_output}
        """
        let r = try Rubric.parse(text, source: "prompts/judge-tone.txt")
        #expect(r.criteria == [.init(name: "Politeness", description: "Is it polite?")])
        #expect(r.scale == 1...3)
    }

    @Test(arguments: [
        ("scale: 5-0\ncriterion: A\n=== system ===\nx\n=== user ===\ny", "prompts/bad.txt:1: field 'scale'"),
        ("scale: 0-5\n=== system ===\nx\n=== user ===\ny", "field 'criterion': a rubric needs"),
        ("scale: 0-5\ncriterion: A\ncriterion: a\n=== system ===\nx\n=== user ===\ny", "prompts/bad.txt:3: field 'criterion': 'a' is listed twice"),
        ("scale: 0-5\ncriterion: A\n=== system ===\nx {oops}\n=== user ===\ny", "prompts/bad.txt:3: section 'system' uses {oops}"),
        ("scale: 0-5\ncriterion: A\n=== system ===\nx", "needs both"),
        ("scale: 0-5\ncolour: red", "prompts/bad.txt:2: unknown key 'colour'"),
    ])
    func badRubricsNameFileAndLine(text: String, message: String) {
        #expect {
            try Rubric.parse(text, source: "prompts/bad.txt")
        } throws: { error in
            String(describing: error).contains(message)
        }
    }
}
