@testable import DistillCLI
import DistillData
import Foundation
import Testing

/// The pipeline `distill demo` writes is a valid pipeline file: every stage's command and options are ones the
/// command accepts (checked the way `distill run` checks them before anything runs), and the options given to
/// `demo` reach the stages they are for.
struct DemoPipelineTests {
    @Test func demoPipelineIsValidAndCarriesItsOptions() throws {
        let demo = try DemoCommand(try ParsedArguments(["--epochs", "3", "--lr", "1e-4", "--lora", "--max-tokens", "96"],
                                                       specs: DemoCommand.spec.options))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("demo-pipeline-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/pipeline.json"
        try demo.pipeline().write(toFile: path, atomically: true, encoding: .utf8)
        let file = try PipelineFile(path: path)
        let plan = PipelinePlan(file: file, out: dir, serviceURLs: ["teacher": "http://127.0.0.1:1/v1"])
        var argv: [String: [String]] = [:]
        for s in file.stages {
            argv[s.name] = try plan.arguments(words: s.command, options: s.options, args: s.args,
                                              outPath: PipelinePlan.outputPath(for: s, in: dir), line: s.line,
                                              what: "stage '\(s.name)'", symbolic: false)
        }
        #expect(file.stages.map(\.name) == ["harvest-train", "harvest-test", "student", "score-teacher", "score-before",
                                            "train", "score-after", "compare"])
        let train = try #require(argv["train"])
        #expect(train.contains("--lora") && !train.contains("--full"))
        #expect(train.split(separator: "--epochs").count == 2 && train[(train.firstIndex(of: "--epochs") ?? 0) + 1] == "3")
        #expect(train[(train.firstIndex(of: "--lr") ?? 0) + 1] == "1e-4")
        let harvest = try #require(argv["harvest-train"])
        #expect(harvest[(harvest.firstIndex(of: "--max-tokens") ?? 0) + 1] == "96")
        #expect(harvest.contains("http://127.0.0.1:1/v1"))
    }
}
