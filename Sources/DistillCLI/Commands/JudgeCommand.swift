import Foundation

struct JudgeCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "judge",
        abstract: "score generations with a JSON-strict LLM judge (0-5 on four criteria)")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill judge", plannedIn: "the judge issue (#6)")
    }
}
