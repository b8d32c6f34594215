import Foundation

struct DataCommand: CommandGroup {
    static let spec = CommandSpec(
        name: "data",
        abstract: "inspect, split, convert and check datasets",
        subcommands: [DataStatsCommand.self, DataSplitCommand.self, DataConvertCommand.self, DataCheckCommand.self])
}

struct DataStatsCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "stats",
        abstract: "counts, field lengths, empties, duplicates")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill data stats", plannedIn: "the foundation issue (#2)")
    }
}

struct DataSplitCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "split",
        abstract: "split into train/test by a stable hash of each item")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill data split", plannedIn: "the foundation issue (#2)")
    }
}

struct DataConvertCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "convert",
        abstract: "convert among Alpaca JSON/JSONL, chat JSONL and OpenAI fine-tuning format")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill data convert", plannedIn: "the foundation issue (#2)")
    }
}

struct DataCheckCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "check",
        abstract: "check schema, encoding (mojibake), duplicates and empty outputs")

    init(_ args: ParsedArguments) throws {}

    func run() async throws {
        throw NotBuiltYet("distill data check", plannedIn: "the foundation issue (#2)")
    }
}
