import DistillClient
import Foundation

/// `cot`: two-stage zero-shot chain of thought (Kojima et al. 2022) with several sampled reasoning paths per
/// question, each checked against the gold answer (Fine-tune-CoT, Ho et al. 2023; seed 001).
///
/// Stage `cot-reason` asks for step-by-step reasoning at the sampling temperature; stage `cot-answer` feeds the
/// reasoning back and reads the answer after "Therefore, the answer is" (at temperature 0: extraction, not
/// sampling). `paths` paths are sampled per question; if fewer than `minCorrect` are correct, more are sampled one
/// at a time until `minCorrect` are, or `maxPaths` were tried.
///
/// Outputs: `cot.jsonl` (`id`, `question`, `rationale`, `answer`, `gold`, `correct`, `path`), and
/// `cot-student.jsonl`, seed 001's student format as Alpaca rows: `instruction` = `<Question> ###`,
/// `output` = `<Reasoning> --> <Answer>`, for the correct paths (every path when the item has no gold answer).
public struct CoTRecipe: HarvestRecipe {
    public let items: HarvestItems<QuestionItem>
    public let prompts: HarvestPrompts
    public let generation: HarvestGeneration
    public let paths: Int
    public let minCorrect: Int
    public let maxPaths: Int

    public init(items: [QuestionItem], prompts: HarvestPrompts, generation: HarvestGeneration, paths: Int = 4,
                minCorrect: Int = 1, maxPaths: Int = 8) {
        self.init(items: HarvestItems(items), prompts: prompts, generation: generation, paths: paths, minCorrect: minCorrect,
                  maxPaths: maxPaths)
    }

    public init(items: HarvestItems<QuestionItem>, prompts: HarvestPrompts, generation: HarvestGeneration, paths: Int = 4,
                minCorrect: Int = 1, maxPaths: Int = 8) {
        self.items = items
        self.prompts = prompts
        self.generation = generation
        self.paths = max(1, paths)
        self.minCorrect = max(0, minCorrect)
        self.maxPaths = max(self.paths, maxPaths)
    }

    public var name: String { "cot" }
    public var plannedRequests: Int { items.count * paths * 2 }
    public static let templateNames = ["cot-reason", "cot-answer"]

    struct Row: Encodable {
        var id: String
        var question: String
        var rationale: String
        var answer: String
        var gold: String?
        var correct: Bool?
        var path: Int
    }

    struct StudentRow: Encodable {
        var id: String
        var instruction: String
        var input = ""
        var output: String
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        try await session.forEachItem(items, id: \.id) { item in
            var rows: [Row] = []
            // The first `paths` paths in parallel; then one at a time while too few are correct.
            try await withThrowingTaskGroup(of: Row.self) { group in
                for path in 0..<paths { group.addTask { try await samplePath(item, path, session) } }
                for try await row in group { rows.append(row) }
            }
            rows.sort { $0.path < $1.path }
            var next = paths
            while item.gold != nil, !session.isDryRun, next < maxPaths,
                  rows.filter({ $0.correct == true }).count < minCorrect {
                session.stats.plan(2)
                rows.append(try await samplePath(item, next, session))
                next += 1
            }
            var out = HarvestOutput()
            for row in rows {
                try out.add("cot.jsonl", row)
                if row.correct != false {
                    try out.add("cot-student.jsonl", StudentRow(id: "\(item.id)#\(row.path)", instruction: "\(row.question) ###",
                                                                output: "\(row.rationale) --> \(row.answer)"))
                }
            }
            return out
        }
    }

    private func samplePath(_ item: QuestionItem, _ path: Int, _ session: HarvestSession) async throws -> Row {
        let question = item.questionWithChoices
        let reasonPrompt = try prompts.render("cot-reason", ["question": question])
        let reasoning = try await session.complete(item: item.id, stage: "cot-reason", sample: path,
                                                   generation.request(reasonPrompt, sample: path))
        let rationale = reasoning.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let answerPrompt = try prompts.render("cot-answer", ["question": question, "reasoning": rationale])
        let answered = try await session.complete(item: item.id, stage: "cot-answer", sample: path,
                                                  generation.request(answerPrompt, sample: path, temperature: 0))
        let answer = AnswerChecker.cleanAnswer(answered.text)
        var correct: Bool? = nil
        if let gold = item.gold {
            // A dry run has no real answers to check; it assumes each path is correct, so it counts `paths` paths.
            correct = session.isDryRun ? true : AnswerChecker.isCorrect(answer, gold: gold, choices: item.choices)
        }
        return Row(id: item.id, question: question, rationale: rationale, answer: answer, gold: item.gold,
                   correct: correct, path: path)
    }
}
