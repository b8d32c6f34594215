import Foundation

struct HarvestCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "harvest",
        abstract: "harvest training data from a teacher (recipes: answer, cot, critique-revise, counterfactual, self-instruct, icl, generate-data)")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill harvest", plannedIn: "the harvest issue (#4)")
    }
}
