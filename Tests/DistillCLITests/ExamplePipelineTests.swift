import DistillTestSupport
import Foundation
import Testing

/// The repository's seed 000 pipeline (scripts/pipelines/seed000-kd.json), shrunk onto the tiny model, end to end
/// with the real binary: `distill serve` as teacher and judge, harvest, prune, five students (CE, SeqKD, forward KL,
/// reverse KL, JS), generation, LLM judging and the report. Re-running skips every stage; changing one training
/// parameter re-runs that student and what uses it, and nothing else.
@Suite(.serialized) struct ExamplePipelineTests {
    static let root = HarvestCommandTests.repositoryRoot.path

    /// The example file with its variables pointed at the tiny model and small data, and every stage made quick.
    static func shrunk(_ name: String, dir: String, jsEpochs: Int = 1) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/scripts/pipelines/\(name)"))
        guard var p = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              var vars = p["vars"] as? [String: Any], var stages = p["stages"] as? [[String: Any]],
              var services = p["services"] as? [String: Any], var local = services["local"] as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: name])
        }
        let tiny = dir + "/tiny.gguf"
        for key in ["teacher_weights", "student"] { vars[key] = tiny }
        vars["train"] = dir + "/train.jsonl"
        vars["test"] = dir + "/test.jsonl"
        local["options"] = ["model": "smollm2=" + tiny, "slots": 4]
        services["local"] = local
        for i in stages.indices {
            var options = stages[i]["options"] as? [String: Any] ?? [:]
            switch stages[i]["command"] as? String {
            case "harvest": options["max-tokens"] = 8
            case "generate": options["max-tokens"] = 8
            case "train":
                options["max-seq"] = 64
                options["threads"] = 1
                if stages[i]["name"] as? String == "train-js" { options["epochs"] = jsEpochs }
                // The tiny random teacher never ends a reply within 8 tokens, so every harvested row is flagged
                // truncated and dropped, as it should be (train refuses a file left with nothing to learn): here the SeqKD
                // student trains on the data file instead.
                if stages[i]["name"] as? String == "train-seqkd" { options["data"] = ["${train}"] }
            default: break
            }
            if !options.isEmpty { stages[i]["options"] = options }
        }
        p["vars"] = vars
        p["services"] = services
        p["stages"] = stages
        p["out"] = dir + "/run"
        let path = dir + "/" + name
        try JSONSerialization.data(withJSONObject: p, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return path
    }

    func run(_ pipeline: String, dir: String) throws -> (status: Int32, log: String) {
        let binary = try #require(HarvestCrashTests.binary, "build the distill binary first")
        let log = dir + "/log-\(UUID().uuidString).txt"
        let p = try HarvestCrashTests.launch(binary, ["run", pipeline], log: log)
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test(.timeLimit(.minutes(8))) func seed000RunsEndToEndSkipsWhenUnchangedAndReRunsOnlyWhatAChangeReaches() throws {
        let dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try HarvestCommandTests.write([
            #"{"instruction": "把这句话翻译成英文", "input": "我喜欢猫 🐱", "output": "I like cats."}"#,
            #"{"instruction": "2+2=?", "input": "", "output": "4"}"#,
            #"{"instruction": "Name a colour.", "input": "", "output": "Blue."}"#,
            #"{"instruction": "天空是什么颜色？", "input": "", "output": "蓝色。"}"#,
            #"{"instruction": "Say hello.", "input": "", "output": "Hello!"}"#,
            #"{"instruction": "1+1=?", "input": "", "output": "2"}"#,
        ], dir + "/train.jsonl")
        try HarvestCommandTests.write([
            #"{"instruction": "3+3=?", "input": "", "output": "6"}"#,
            #"{"instruction": "用一个词形容大海", "input": "", "output": "辽阔"}"#,
        ], dir + "/test.jsonl")
        let pipeline = try Self.shrunk("seed000-kd.json", dir: dir)
        let first = try run(pipeline, dir: dir)
        #expect(first.status == 0, "\(first.log)")
        let report = try String(contentsOfFile: dir + "/run/judge/report.md", encoding: .utf8)
        for label in ["teacher", "CE", "SeqKD", "FKL", "RKL", "JS"] { #expect(report.contains(label)) }
        #expect(report.contains("Valid"))

        let again = try run(pipeline, dir: dir)
        #expect(again.status == 0, "\(again.log)")
        #expect(again.log.components(separatedBy: "unchanged, skipped").count - 1 == 15, "\(again.log)")

        let changed = try run(try Self.shrunk("seed000-kd.json", dir: dir, jsEpochs: 2), dir: dir)
        #expect(changed.status == 0, "\(changed.log)")
        let reRun = changed.log.split(separator: "\n").filter { $0.contains(": changed, re-running") }
            .compactMap { $0.split(separator: "] ").last?.split(separator: ":").first.map(String.init) }
        #expect(reRun == ["train-js", "gen-js", "judge", "report"], "\(changed.log)")
    }
}
