import DistillClient
import Foundation

/// `critique-revise` (arXiv 2504.16056, seed 002): per (question, gold answer), the teacher explains the answer,
/// critiques its explanation, then revises it. All three stages are kept.
///
/// Outputs: `critique-revise.jsonl` (`id`, `question`, `answer`, `explanation`, `critique`, `revised`);
/// `sft.jsonl`, Alpaca rows whose `output` is the revised explanation, with `answer` alongside for the multitask
/// loss; `preferences.jsonl` (`prompt`, `chosen` = revised, `rejected` = initial), the TRL DPO shape.
public struct CritiqueReviseRecipe: QuestionRecipe {
    public let inputs: QuestionRecipeInputs

    public init(inputs: QuestionRecipeInputs) { self.inputs = inputs }

    public var name: String { "critique-revise" }
    public var plannedRequests: Int { items.count * 3 }
    public static let templateNames = ["explain", "critique", "revise"]

    struct Row: Encodable {
        var id, question, answer, explanation, critique, revised: String
    }

    struct SFTRow: Encodable {
        var id, instruction: String
        var input = ""
        var output, answer: String
    }

    struct PreferenceRow: Encodable {
        var id, prompt, chosen, rejected: String
    }

    /// The gold answer in words: `(B) text` for multiple choice.
    static func answerText(_ item: QuestionItem) -> String? {
        guard let gold = item.gold else { return nil }
        if let choice = item.choice(gold) { return "(\(choice.label)) \(choice.text)" }
        return gold
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        if let item = try items.first(where: { $0.gold == nil }) {
            throw HarvestError(.badInput, "item \(item.id) has no gold answer; critique-revise explains a known answer "
                + "(give \"answer\" in every record)")
        }
        return try await session.forEachItem(items, id: \.id) { item in
            let question = item.questionWithChoices
            let answer = Self.answerText(item) ?? ""
            var values = ["question": question, "answer": answer]
            let explanation = try await ask("explain", values, item: item, session).text
            values["explanation"] = explanation
            let critique = try await ask("critique", values, item: item, session).text
            values["critique"] = critique
            let revised = try await ask("revise", values, item: item, session).text
            var out = HarvestOutput()
            try out.add("critique-revise.jsonl", Row(id: item.id, question: question, answer: answer,
                                                     explanation: explanation, critique: critique, revised: revised))
            try out.add("sft.jsonl", SFTRow(id: item.id, instruction: question, output: revised, answer: answer))
            try out.add("preferences.jsonl", PreferenceRow(id: item.id, prompt: question, chosen: revised, rejected: explanation))
            return out
        }
    }
}
