import Foundation

struct AskCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "ask",
        abstract: "send one chat request to a teacher endpoint (checks the URL, model and key)")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill ask", plannedIn: "the transport issue (#3)")
    }
}
