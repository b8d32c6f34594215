import DistillData
import Foundation
import Testing
@testable import DistillClient
@testable import DistillHarvest

/// Each recipe against an in-process teacher that answers by recognising the recipe's own prompt files.
@Suite struct HarvestRecipeTests {
    func session(_ teacher: FakeTeacher, concurrency: Int = 4) throws -> HarvestSession {
        var options = HarvestSession.Options()
        options.concurrency = concurrency
        return HarvestSession(client: teacher, journal: try HarvestJournal(directory: try HarvestFixtures.temporaryDirectory()),
                              options: options)
    }

    func rows(_ files: [String: [Data]], _ name: String) -> [[String: Any]] {
        (files[name] ?? []).compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    @Test func answerKeepsLogprobsAndReference() async throws {
        let teacher = FakeTeacher { _ in "四" }
        let items = [InstructionItem(id: "a", instruction: "2+2 等于几？", output: "4")]
        let recipe = AnswerRecipe(items: items, prompts: try HarvestFixtures.prompts(AnswerRecipe.templateNames),
                                  generation: HarvestFixtures.generation, samples: 2, topLogprobs: 5)
        let out = rows(try await recipe.run(try session(teacher)), "answer.jsonl")
        #expect(out.count == 2)
        #expect(out.map { $0["sample"] as? Int } == [0, 1])
        #expect(out.first?["output"] as? String == "四")
        #expect(out.first?["reference_output"] as? String == "4")
        #expect(teacher.requests.allSatisfy { $0.topLogprobs == 5 && $0.logprobs == true })
        #expect(teacher.requests.first?.messages.first?.role == "system" || teacher.requests.first?.messages.count == 1)
    }

    @Test func cotResamplesUntilEnoughCorrectPaths() async throws {
        // Paths 0 and 1 reach a wrong answer; every later path is right.
        let teacher = FakeTeacher { r in
            let path = (r.seed ?? 0) - 100
            if r.prompt.contains("Therefore, the answer is") { return path >= 2 ? " 42." : " 41." }
            return "Six times seven is forty-two (path \(path))."
        }
        let items = [QuestionItem(id: "q1", question: "What is 6 × 7?", gold: "42")]
        var generation = HarvestFixtures.generation
        generation.seed = 100
        let recipe = CoTRecipe(items: items, prompts: try HarvestFixtures.prompts(CoTRecipe.templateNames),
                               generation: generation, paths: 2, minCorrect: 1, maxPaths: 6)
        let files = try await recipe.run(try session(teacher))
        let structured = rows(files, "cot.jsonl")
        #expect(structured.map { $0["correct"] as? Bool } == [false, false, true])
        #expect(structured.last?["answer"] as? String == "42")
        #expect(teacher.requests.count == 6)
        let student = rows(files, "cot-student.jsonl")
        #expect(student.count == 1)
        #expect(student.first?["instruction"] as? String == "What is 6 × 7? ###")
        #expect(student.first?["output"] as? String == "Six times seven is forty-two (path 2). --> 42")
        // The reasoning stage samples; the answer stage extracts at temperature 0.
        #expect(teacher.requests.filter { $0.prompt.contains("Therefore, the answer is") }.allSatisfy { $0.temperature == 0 })
        #expect(teacher.requests.filter { !$0.prompt.contains("Therefore, the answer is") }.allSatisfy { $0.temperature == 0.7 })
    }

    @Test func cotGivesUpAtTheBudget() async throws {
        let teacher = FakeTeacher { r in r.prompt.contains("Therefore, the answer is") ? "(C)" : "我想是 C。" }
        let items = [QuestionItem(id: "mc", question: "哪个是水果？", gold: "B",
                                  choices: [.init(label: "A", text: "石头"), .init(label: "B", text: "苹果"), .init(label: "C", text: "铁")])]
        let recipe = CoTRecipe(items: items, prompts: try HarvestFixtures.prompts(CoTRecipe.templateNames),
                               generation: HarvestFixtures.generation, paths: 2, minCorrect: 1, maxPaths: 3)
        let files = try await recipe.run(try session(teacher))
        #expect(rows(files, "cot.jsonl").count == 3)
        #expect(rows(files, "cot-student.jsonl").isEmpty)
        #expect(teacher.requests.first?.prompt.contains("(B) 苹果") == true)
    }

    @Test func critiqueReviseChainsTheThreeStages() async throws {
        let teacher = FakeTeacher { r in
            if r.prompt.contains("Critique of the explanation:") { return "revised: apples grow on trees 🍎" }
            if r.prompt.contains("Critique the explanation") { return "critique: too short" }
            return "initial: it is a fruit"
        }
        let items = [QuestionItem(id: "1", question: "Which is a fruit?", gold: "B",
                                  choices: [.init(label: "A", text: "rock"), .init(label: "B", text: "apple")])]
        let recipe = CritiqueReviseRecipe(items: items, prompts: try HarvestFixtures.prompts(CritiqueReviseRecipe.templateNames),
                                          generation: HarvestFixtures.generation)
        let files = try await recipe.run(try session(teacher))
        let full = try #require(rows(files, "critique-revise.jsonl").first)
        #expect(full["explanation"] as? String == "initial: it is a fruit")
        #expect(full["critique"] as? String == "critique: too short")
        #expect(full["revised"] as? String == "revised: apples grow on trees 🍎")
        #expect(full["answer"] as? String == "(B) apple")
        // Each stage saw the previous ones.
        #expect(teacher.requests[1].prompt.contains("initial: it is a fruit"))
        #expect(teacher.requests[2].prompt.contains("critique: too short"))
        let pair = try #require(rows(files, "preferences.jsonl").first)
        #expect(pair["chosen"] as? String == "revised: apples grow on trees 🍎")
        #expect(pair["rejected"] as? String == "initial: it is a fruit")
        #expect(rows(files, "sft.jsonl").first?["output"] as? String == "revised: apples grow on trees 🍎")
    }

    @Test func counterfactualExplainsEveryWrongChoice() async throws {
        let teacher = FakeTeacher { r in "because " + (r.prompt.components(separatedBy: "picked \"").dropFirst().first?.prefix(3) ?? "?") }
        let choices = ["A", "B", "C", "D", "E"].map { QuestionItem.Choice(label: $0, text: "选项\($0)") }
        let items = [QuestionItem(id: "x", question: "问题？", gold: "C", choices: choices)]
        let recipe = CounterfactualRecipe(items: items, prompts: try HarvestFixtures.prompts(CounterfactualRecipe.templateNames),
                                          generation: HarvestFixtures.generation)
        let out = rows(try await recipe.run(try session(teacher)), "counterfactual.jsonl")
        #expect(out.map { $0["wrong_answer"] as? String } == ["A", "B", "D", "E"])
        #expect(out.map { $0["explanation"] as? String } == ["because (A)", "because (B)", "because (D)", "because (E)"])
        #expect(out.allSatisfy { $0["answer"] as? String == "C" })
    }

    /// An item that is not multiple-choice with a gold answer is refused, by id, before any request; the plan counts
    /// one request per wrong choice, from the same pass over the items.
    @Test func counterfactualRefusesAnItemWithoutGoldBeforeAsking() async throws {
        let teacher = FakeTeacher { _ in "because" }
        let choices = ["A", "B", "C"].map { QuestionItem.Choice(label: $0, text: "选项\($0)") }
        let items = [QuestionItem(id: "ok", question: "问题？", gold: "A", choices: choices),
                     QuestionItem(id: "no-gold", question: "问题 🙂？", gold: nil, choices: choices)]
        let recipe = CounterfactualRecipe(items: items, prompts: try HarvestFixtures.prompts(CounterfactualRecipe.templateNames),
                                          generation: HarvestFixtures.generation)
        #expect(recipe.plannedRequests == 4)
        let error = await #expect(throws: HarvestError.self) { try await recipe.run(try session(teacher)) }
        #expect(error?.kind == .badInput)
        #expect(String(describing: error).contains("no-gold"))
        #expect(teacher.requests.isEmpty)
    }

    @Test func iclRecordsDemonstrationsFromTheSameTask() async throws {
        let teacher = FakeTeacher { _ in "answer" }
        var pool: [InstructionItem] = []
        for i in 1...6 { pool.append(InstructionItem(id: "t\(i)", instruction: "translate \(i)", output: "翻译 \(i)", task: "translate")) }
        for i in 1...6 { pool.append(InstructionItem(id: "m\(i)", instruction: "add \(i)+\(i)", output: "\(2 * i)", task: "math")) }
        let recipe = ICLRecipe(queries: pool, pool: pool, prompts: try HarvestFixtures.prompts(ICLRecipe.templateNames),
                               generation: HarvestFixtures.generation, shots: 3, mode: .sameTask, seed: 7)
        let out = rows(try await recipe.run(try session(teacher)), "icl.jsonl")
        #expect(out.count == 12)
        for row in out {
            let demos = try #require(row["demonstrations"] as? [[String: Any]])
            #expect(demos.count == 3)
            let ids = demos.compactMap { $0["id"] as? String }
            #expect(!ids.contains(row["id"] as? String ?? ""), "a query was its own demonstration")
            #expect(ids.allSatisfy { $0.first == (row["id"] as? String)?.first }, "demonstrations from another task")
            #expect((row["prompt"] as? String)?.contains("Example 3") == true)
        }
        // Deterministic: the same seed picks the same demonstrations.
        #expect(recipe.demonstrations(for: pool[0]) == recipe.demonstrations(for: pool[0]))
        let mixed = ICLRecipe(queries: pool, pool: pool, prompts: recipe.prompts, generation: HarvestFixtures.generation,
                              shots: 6, mode: .mixed, seed: 7)
        #expect(Set((0..<12).flatMap { mixed.demonstrations(for: pool[$0]).compactMap(\.task) }) == ["translate", "math"])
    }

    @Test func selfInstructFiltersNearDuplicatesAndAnswersTheKeptOnes() async throws {
        let teacher = FakeTeacher { r in
            if r.prompt.contains("new, diverse tasks") {
                let fresh = [["Write a haiku about autumn leaves.", "把这句话翻译成法语", "今天天气很好"],
                             ["List the planets of the solar system in order.", "计算一个圆的面积，半径为三厘米", ""]]
                let round = fresh[min(r.seed ?? 0, 1)]
                return """
                [{"instruction": "Give three tips for staying healthy.", "input": ""},
                 {"instruction": "\(round[0])", "input": ""},
                 {"instruction": "Draw a picture of a cat.", "input": ""},
                 {"instruction": "\(round[1])", "input": "\(round[2])"},
                 {"instruction": "Hi", "input": ""}]
                """
            }
            return "done"
        }
        let seeds = [InstructionItem(id: "s1", instruction: "Give three tips for a healthy lifestyle.", output: "…"),
                     InstructionItem(id: "s2", instruction: "Name the largest ocean on Earth.", output: "Pacific")]
        var generation = HarvestFixtures.generation
        generation.seed = 0
        let recipe = SelfInstructRecipe(seeds: seeds, prompts: try HarvestFixtures.prompts(SelfInstructRecipe.templateNames),
                                        generation: generation, target: 3, shots: 2, perRequest: 5)
        let files = try await recipe.run(try session(teacher, concurrency: 2))
        let kept = rows(files, "self-instruct-tasks.jsonl").compactMap { $0["instruction"] as? String }
        #expect(kept.count == 3)
        #expect(kept == ["Write a haiku about autumn leaves.", "把这句话翻译成法语", "List the planets of the solar system in order."])
        let reasons = rows(files, "self-instruct-rejected.jsonl").compactMap { $0["reason"] as? String }
        #expect(reasons.contains { $0.hasPrefix("ROUGE-L") })
        #expect(reasons.contains { $0.contains("'picture'") })
        #expect(reasons.contains { $0.hasPrefix("too short") })
        let answered = rows(files, "self-instruct.jsonl")
        #expect(answered.count == 3)
        #expect(answered[1]["input"] as? String == "今天天气很好")
        #expect(answered.allSatisfy { $0["output"] as? String == "done" })
    }

    @Test func generateDataValidatesAndDeduplicates() async throws {
        let teacher = FakeTeacher { r in
            let round = r.seed ?? 0
            return """
            ```json
            [{"input": "这部电影太好看了 \(round)", "output": "positive"},
             {"input": "这部电影太好看了 \(round)", "output": "positive"},
             {"input": "", "output": "neutral"},
             {"input": "服务很差 \(round)", "output": "negative"}]
            ```
            """
        }
        let lines = LockedLines()
        var generation = HarvestFixtures.generation
        generation.seed = 0
        let recipe = GenerateDataRecipe(task: "中文文本情感分类（positive/negative/neutral）",
                                        prompts: try HarvestFixtures.prompts(GenerateDataRecipe.templateNames),
                                        generation: generation, target: 20, perRequest: 4,
                                        report: { lines.append($0) })
        let files = try await recipe.run(try session(teacher))
        let kept = rows(files, "generate-data.jsonl")
        #expect(kept.count == 20)
        #expect(kept.allSatisfy { Set($0.keys) == ["input", "output"] })
        #expect(Set(kept.compactMap { $0["input"] as? String }).count == 20)
        #expect(lines.all == ["generated 10/20 samples", "generated 20/20 samples"])
        let reasons = rows(files, "generate-data-rejected.jsonl").compactMap { $0["reason"] as? String }
        #expect(reasons.contains("duplicate input"))
        #expect(reasons.contains("missing or empty \"input\""))
        #expect(teacher.requests.first?.prompt.contains("中文文本情感分类") == true)
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.withLock { lines.append(s) } }
    var all: [String] { lock.withLock { lines } }
}
