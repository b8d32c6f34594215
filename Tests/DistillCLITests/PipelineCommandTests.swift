import DistillTestSupport
import Foundation
import Testing

/// `distill run` end to end with the real binary: convert → generate (tiny model) → judge by rule → report.
/// Re-running skips every stage; changing one option re-runs that stage and what follows, saying what changed;
/// unknown keys and options are refused with their line before anything runs.
@Suite(.serialized) struct PipelineCommandTests {
    let dir: String

    init() throws {
        dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try HarvestCommandTests.write([
            #"{"instruction": "把这句话翻译成英文", "input": "我喜欢猫 🐱", "output": "I like cats."}"#,
            #"{"instruction": "2+2=?", "input": "", "output": "4"}"#,
            #"{"instruction": "Name a colour.", "input": "", "output": "Blue."}"#,
        ], dir + "/items.jsonl")
    }

    func pipeline(maxTokens: Int = 6, extraStageKey: String = "", option: String = "max-tokens") -> String {
        """
        {
          "out": "\(dir)/run",
          "vars": {"model": "\(dir)/tiny.gguf"},
          "stages": [
            {"name": "convert", "command": "data convert",
             "options": {"to": "alpaca-jsonl"}, "args": ["\(dir)/items.jsonl"]},
            {"name": "generate", "command": "generate",\(extraStageKey)
             "options": {"model": "${model}", "data": "@convert", "\(option)": \(maxTokens), "threads": 1}},
            {"name": "judge", "command": "judge", "options": {"score": "exact", "inputs": ["@generate"], "labels": ["tiny"]}},
            {"name": "report", "command": "report", "args": ["@judge"]}
          ]
        }
        """
    }

    func run(_ text: String, _ extra: [String] = []) throws -> (status: Int32, log: String) {
        let binary = try #require(HarvestCrashTests.binary, "build the distill binary first")
        try text.write(toFile: dir + "/pipeline.json", atomically: true, encoding: .utf8)
        let log = dir + "/log-\(UUID().uuidString).txt"
        let p = try HarvestCrashTests.launch(binary, ["run", dir + "/pipeline.json"] + extra, log: log)
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test(.timeLimit(.minutes(3))) func runsSkipsAndReRunsOnlyWhatChanged() throws {
        let first = try run(pipeline())
        #expect(first.status == 0, "\(first.log)")
        for stage in ["convert", "generate", "judge", "report"] { #expect(first.log.contains("] \(stage): new")) }
        #expect(FileManager.default.fileExists(atPath: dir + "/run/judge/report.md"))
        let generated = try String(contentsOfFile: dir + "/run/generate.jsonl", encoding: .utf8)
        #expect(generated.split(separator: "\n").count == 3)
        #expect(generated.contains("我喜欢猫 🐱"))

        let again = try run(pipeline())
        #expect(again.status == 0, "\(again.log)")
        #expect(again.log.components(separatedBy: "unchanged, skipped").count - 1 == 4, "\(again.log)")

        let changed = try run(pipeline(maxTokens: 9))
        #expect(changed.status == 0, "\(changed.log)")
        #expect(changed.log.contains("[1/4] convert: unchanged, skipped"))
        #expect(changed.log.contains("[2/4] generate: changed, re-running"))
        #expect(changed.log.contains("--max-tokens: 6 → 9"))
        #expect(changed.log.contains("[3/4] judge: changed, re-running"))
        #expect(changed.log.contains("stage generate:"), "downstream says which upstream stage changed")
        #expect(changed.log.contains("[4/4] report: changed, re-running"))
        // The old output is kept, not deleted.
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir + "/run").filter { $0.hasPrefix("generate.jsonl.replaced-") }
        #expect(kept.count == 1)

        let dry = try run(pipeline(maxTokens: 12), ["--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.log.contains("[2/4] generate: changed, re-running"))
        #expect(dry.log.contains("would run"))
        let still = try String(contentsOfFile: dir + "/run/generate.jsonl", encoding: .utf8)
        #expect(still.split(separator: "\n").count == 3, "a dry run changes nothing")
    }

    @Test func unknownKeysAndOptionsAreRefusedWithTheirLineBeforeAnythingRuns() throws {
        let typoKey = try run(pipeline(extraStageKey: "\n             \"optoins\": {},"))
        #expect(typoKey.status == 1)
        #expect(typoKey.log.contains("pipeline.json:8"), "\(typoKey.log)")
        #expect(typoKey.log.contains("unknown key 'optoins'"))
        let typoOption = try run(pipeline(option: "max-tokenz"))
        #expect(typoOption.status == 1)
        #expect(typoOption.log.contains("pipeline.json:8"), "\(typoOption.log)")
        #expect(typoOption.log.contains("has no option '--max-tokenz'"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/convert.jsonl"), "nothing ran")
    }
}
