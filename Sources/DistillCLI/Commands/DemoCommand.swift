import Foundation

struct DemoCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "demo",
        abstract: "the whole loop offline on the embedded SmolLM2-135M-Instruct")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill demo", plannedIn: "the demo wave")
    }
}
