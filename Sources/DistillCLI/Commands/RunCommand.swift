import Foundation

struct RunCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "run",
        abstract: "run every stage from one pipeline file")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill run", plannedIn: "the pipeline wave")
    }
}
