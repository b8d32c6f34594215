import Foundation

struct TrainCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "train",
        abstract: "fine-tune a student (LoRA or full) on harvested data")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill train", plannedIn: "the fine-tuner wave")
    }
}
