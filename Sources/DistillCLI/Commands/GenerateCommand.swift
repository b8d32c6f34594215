import Foundation

struct GenerateCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "generate",
        abstract: "run a local model over a test set; writes {instruction,input,reference_output,generate_output}")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill generate", plannedIn: "the engine issue (#5)")
    }
}
