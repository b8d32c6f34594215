import DistillClient
import Foundation

/// `counterfactual` (arXiv 2504.16056, seed 002): for each multiple-choice item, an explanation for every wrong
/// choice — the reasoning that would lead to it — so the counterfactual loss can train the student to give the wrong
/// answer when handed the wrong explanation (and the right one otherwise).
///
/// Output `counterfactual.jsonl`: one row per wrong choice: `id`, `question`, `choices`, `answer` (gold label),
/// `wrong_answer` (label), `wrong_text`, `explanation`.
public struct CounterfactualRecipe: QuestionRecipe {
    public let inputs: QuestionRecipeInputs
    /// One request per wrong choice of every item (counted in one pass over the items).
    public let plannedRequests: Int
    /// From the same pass: the first item that is not multiple-choice with a gold answer, if any; `.unknown` when the
    /// input could not be read again (the run then looks for itself, and fails on the read if it still cannot).
    let unfit: Unfit

    enum Unfit {
        case none, item(QuestionItem), unknown
    }

    public init(inputs: QuestionRecipeInputs) {
        var planned = 0
        var first: QuestionItem?
        do {
            try inputs.items.forEach { item in
                planned += max(0, item.choices.count - 1)
                if first == nil, !Self.fits(item) { first = item }
            }
            unfit = first.map { .item($0) } ?? .none
        } catch {
            unfit = .unknown
        }
        plannedRequests = planned
        self.inputs = inputs
    }

    /// A multiple-choice item (two choices or more) with a gold answer.
    static func fits(_ item: QuestionItem) -> Bool { item.choices.count >= 2 && item.gold != nil }

    public var name: String { "counterfactual" }
    public static let templateNames = ["counterfactual"]

    struct Row: Encodable {
        var id: String
        var question: String
        var choices: [QuestionItem.Choice]
        var answer: String
        var wrongAnswer: String
        var wrongText: String
        var explanation: String
        var truncated: Bool? = nil

        enum CodingKeys: String, CodingKey {
            case truncated, id, question, choices, answer, explanation
            case wrongAnswer = "wrong_answer"
            case wrongText = "wrong_text"
        }
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        let found: QuestionItem? = switch unfit {
        case .none: nil
        case .item(let item): item
        case .unknown: try items.first(where: { !Self.fits($0) })
        }
        if let item = found {
            throw HarvestError(.badInput, "item \(item.id) is not a multiple-choice item with a gold answer; "
                + "counterfactual needs \"choices\" and \"answer\" (a choice label) in every record")
        }
        return try await session.forEachItem(items, id: \.id) { item in
            var out = HarvestOutput()
            for choice in item.choices where choice.label != item.gold {
                let values = ["question": item.question, "choices": item.choicesText, "wrong_answer": "(\(choice.label)) \(choice.text)"]
                let r = try await ask("counterfactual", values, stage: "counterfactual-\(choice.label)", item: item, session)
                try out.add("counterfactual.jsonl", Row(id: item.id, question: item.question, choices: item.choices,
                                                        answer: item.gold ?? "", wrongAnswer: choice.label, wrongText: choice.text,
                                                        explanation: r.text, truncated: r.truncated))
            }
            return out
        }
    }
}
