import Foundation

struct BenchHTTPCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "http",
        abstract: "client requests/s against a fixed-answer endpoint, vs the openai SDK")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill bench http", plannedIn: "the transport (#3) and engine (#5) issues")
    }
}
