import Foundation

struct ServeCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "serve",
        abstract: "serve a local model behind the OpenAI chat-completions protocol")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill serve", plannedIn: "the serve wave")
    }
}
