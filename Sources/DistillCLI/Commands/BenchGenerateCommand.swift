import Foundation

struct BenchGenerateCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "generate",
        abstract: "decode tokens/s at batch 1, 16, 64 vs llama.cpp and PyTorch")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill bench generate", plannedIn: "the transport (#3) and engine (#5) issues")
    }
}
