import Foundation

struct BenchCommand: CommandGroup {
    static let spec = CommandSpec(
        name: "bench",
        abstract: "benchmarks printed beside an anchor measured in the same run",
        subcommands: [BenchHTTPCommand.self, BenchGenerateCommand.self, BenchTrainCommand.self],
        examples: """
              distill bench generate
              distill bench http --latency
              distill bench train --modes qlora
            """)
}
