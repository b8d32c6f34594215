import Foundation
import Testing
@testable import DistillCLI

@Suite struct ArgumentsTests {
    static let model: Option<String> = .value("model", "NAME", default: "smollm2", help: "model")
    static let temperature: Option<Double> = .value("temperature", "T", default: 0.7, help: "temperature")
    static let dryRun: Option<Bool> = .flag("dry-run", help: "count only")
    static let inputs: Option<[String]> = .list("inputs", "FILE", help: "inputs")
    let specs: [OptionSpec] = [Self.model.spec, Self.temperature.spec, Self.dryRun.spec, Self.inputs.spec]

    @Test func valuesInBothSpellingsAndDefaults() throws {
        let p = try ParsedArguments(["--model", "qwen", "--temperature=0.2"], specs: specs)
        #expect(p[Self.model] == "qwen")
        #expect(p[Self.temperature] == 0.2)
        let d = try ParsedArguments([], specs: specs)
        #expect(d[Self.model] == "smollm2")
        #expect(d[Self.dryRun] == false)
    }

    @Test func listsTakeValuesUntilNextOptionAndRepeat() throws {
        let p = try ParsedArguments(["--inputs", "a.jsonl", "b.jsonl", "--dry-run", "--inputs", "c.jsonl"], specs: specs)
        #expect(p[Self.inputs] == ["a.jsonl", "b.jsonl", "c.jsonl"])
        #expect(p[Self.dryRun])
    }

    @Test func doubleDashEndsOptions() throws {
        let p = try ParsedArguments(["--model", "m", "--", "--not-an-option", "x"], specs: specs)
        #expect(p.positionals == ["--not-an-option", "x"])
    }

    @Test func unknownOptionAndMissingValueAreUsageErrors() {
        #expect(throws: UsageError.self) { try ParsedArguments(["--modle", "x"], specs: specs) }
        #expect(throws: UsageError.self) { try ParsedArguments(["--model"], specs: specs) }
        #expect(throws: UsageError.self) { try ParsedArguments(["--model", "--dry-run"], specs: specs) }
        #expect(throws: UsageError.self) { try ParsedArguments(["--temperature", "hot"], specs: specs) }
    }

    @Test func exitCodes() async {
        #expect(await DistillCLI.main(["--help"]) == 0)
        #expect(await DistillCLI.main(["no-such-command"]) == 64)
        #expect(await DistillCLI.main(["data"]) == 64)
        #expect(await DistillCLI.main(["data", "stats", "/nonexistent/items-\(getpid()).jsonl"]) == 1)  // a failure, not a usage error
        #expect(await DistillCLI.main(["train"]) == 64)  // --data and --out are required
    }

    @Test func helpListsEveryCommandAndDefaults() throws {
        guard case .help(let root) = try DistillCLI.resolve(["help"]) else { Issue.record("no help"); return }
        for c in DistillCLI.commands { #expect(root.contains(c.spec.name)) }
        let spec = CommandSpec(name: "x", abstract: "y", options: specs)
        #expect(HelpFormatter.help(for: spec, path: ["x"]).contains("(default: 0.7)"))
    }
}
