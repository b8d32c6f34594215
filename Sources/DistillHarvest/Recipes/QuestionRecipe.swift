import DistillClient
import Foundation

/// What a recipe over question items is handed when it needs nothing else: the items, the prompt templates and the
/// sampling (critique-revise and counterfactual).
public struct QuestionRecipeInputs: Sendable {
    public let items: HarvestItems<QuestionItem>
    public let prompts: HarvestPrompts
    public let generation: HarvestGeneration

    public init(items: HarvestItems<QuestionItem>, prompts: HarvestPrompts, generation: HarvestGeneration) {
        self.items = items
        self.prompts = prompts
        self.generation = generation
    }
}

/// A recipe over question items built from `QuestionRecipeInputs` alone.
public protocol QuestionRecipe: HarvestRecipe {
    var inputs: QuestionRecipeInputs { get }
    init(inputs: QuestionRecipeInputs)
}

extension QuestionRecipe {
    public init(items: HarvestItems<QuestionItem>, prompts: HarvestPrompts, generation: HarvestGeneration) {
        self.init(inputs: QuestionRecipeInputs(items: items, prompts: prompts, generation: generation))
    }

    public init(items: [QuestionItem], prompts: HarvestPrompts, generation: HarvestGeneration) {
        self.init(items: HarvestItems(items), prompts: prompts, generation: generation)
    }

    public var items: HarvestItems<QuestionItem> { inputs.items }
    public var prompts: HarvestPrompts { inputs.prompts }
    public var generation: HarvestGeneration { inputs.generation }

    /// Fills `template` with `values`, asks the teacher under `stage` (the journal key; the template's name by default),
    /// and returns the reply trimmed and `RecordedResponse.truncated`.
    func ask(_ template: String, _ values: [String: String], stage: String? = nil, item: QuestionItem,
             _ session: HarvestSession) async throws -> (text: String, truncated: Bool?) {
        let prompt = try prompts.render(template, values)
        let r = try await session.complete(item: item.id, stage: stage ?? template, generation.request(prompt))
        return (r.text.trimmingCharacters(in: .whitespacesAndNewlines), r.truncated)
    }
}
