import Foundation
import Testing
@testable import DistillData

@Suite struct PromptTemplateTests {
    @Test func rendersPlaceholdersAndLiteralBraces() throws {
        let t = try PromptTemplate(name: "t", text: "Q: {question}\nReply as {{\"answer\": \"{label}\"}} 🙂", source: "t.txt")
        #expect(t.placeholders == ["question", "label"])
        let out = try t.render(["question": "什么是蒸馏？", "label": "A"])
        #expect(out == "Q: 什么是蒸馏？\nReply as {\"answer\": \"A\"} 🙂")
    }

    @Test func valuesAreSubstitutedOnce() throws {
        let t = try PromptTemplate(name: "t", text: "{a}|{b}", source: "t.txt")
        #expect(try t.render(["a": "{b}", "b": "x"]) == "{b}|x")
    }

    @Test func missingAndExtraValuesNameTheFile() throws {
        let t = try PromptTemplate(name: "explain", text: "{question} {answer}", source: "prompts/explain.txt")
        do {
            _ = try t.render(["question": "q"])
            Issue.record("missing value accepted")
        } catch let e as DataError {
            #expect(e.file == "prompts/explain.txt")
            #expect(e.message.contains("{answer}"))
        }
        #expect(throws: DataError.self) { try t.render(["question": "q", "answer": "a", "extra": "x"]) }
        #expect(try t.render(["question": "q", "answer": "a", "extra": "x"], allowUnused: true) == "q a")
    }

    @Test func strayBracesAreErrorsWithLine() {
        for bad in ["a\n{ name}", "a\n{}", "x }", "{unterminated"] {
            do {
                _ = try PromptTemplate(name: "t", text: bad, source: "t.txt")
                Issue.record("accepted \(bad.debugDescription)")
            } catch let e as DataError {
                #expect(e.file == "t.txt")
                #expect(e.line != nil)
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func libraryLoadsValidatesAndListsTemplates() throws {
        let dir = TestFolder()
        dir.write("cot-answer.txt", "{question}\n{reasoning}\nTherefore, the answer is")
        let lib = try PromptLibrary(directory: dir.path)
        #expect(lib.names() == ["cot-answer"])
        #expect(PromptLibrary.searchPath().last == FileManager.default.currentDirectoryPath + "/prompts")
        let t = try lib.validate("cot-answer", expecting: ["question", "reasoning"])
        #expect(t.source == dir.path + "/cot-answer.txt")
        #expect(throws: DataError.self) { try lib.validate("cot-answer", expecting: ["question"]) }
        #expect(throws: DataError.self) { try lib.template("nope") }
        #expect(throws: DataError.self) { try lib.template("../etc/passwd") }
        #expect(throws: DataError.self) { try PromptLibrary(directory: dir.path + "/missing") }
        dir.write("moji.txt", doubleEncode("请一步一步地思考：{question}"))
        #expect(throws: DataError.self) { try lib.template("moji") }
        dir.write("latin1.txt", Data([0x63, 0x61, 0x66, 0xE9]))  // "café" in Latin-1, not UTF-8
        #expect(throws: DataError.self) { try lib.template("latin1") }
    }

    /// With no folder given, the search walks up from the test binary (inside .build/) to the repository's prompts/.
    @Test func defaultSearchFindsTheRepositoryPrompts() throws {
        guard ProcessInfo.processInfo.environment[PromptLibrary.environmentVariable] == nil else { return }
        let lib = try PromptLibrary()
        #expect(lib.names().contains("cot-reason"))
        #expect(lib.directory.hasSuffix("/prompts"))
    }

    /// The shipped prompts parse and use exactly the placeholders the recipes will fill.
    @Test func shippedPromptsHaveTheDocumentedPlaceholders() throws {
        let lib = try PromptLibrary(directory: repositoryRoot + "/prompts")
        let expected: [String: Set<String>] = [
            "system": [], "answer": ["instruction", "input"], "cot-reason": ["question"],
            "cot-answer": ["question", "reasoning"], "explain": ["question", "answer"],
            "critique": ["question", "answer", "explanation"],
            "revise": ["question", "answer", "explanation", "critique"],
            "counterfactual": ["question", "choices", "wrong_answer"], "self-instruct": ["examples", "num_tasks"],
            "generate-data": ["task", "num_samples", "examples"], "icl": ["demonstrations", "instruction", "input"],
        ]
        for (name, placeholders) in expected {
            _ = try lib.validate(name, expecting: placeholders)
        }
        let json = try lib.template("generate-data").render(["task": "t", "num_samples": "3", "examples": "e"])
        #expect(json.contains(#"[{"input": "...", "output": "..."}, ...]"#))
    }
}
