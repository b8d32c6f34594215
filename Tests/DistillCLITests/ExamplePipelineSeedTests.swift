import DistillTestSupport
import Foundation
import Testing

/// Seeds 001-003's example pipelines (scripts/pipelines/), shrunk onto the tiny model with a few items, end to end
/// with the real binary against the loopback teacher (`RecipeTeacher` behind a `TeacherStandIn`, which answers CoT,
/// explain-critique-revise, counterfactual, generate-data in Chinese and the judge deterministically). Each: the
/// whole pipeline runs; re-running skips every stage; changing one training parameter re-runs only train and what
/// uses it.
@Suite(.serialized) struct ExamplePipelineSeedTests {
    static let root = HarvestCommandTests.repositoryRoot.path

    static let reasoning = [
        ("There are 3 boxes with 4 apples each. How many apples are there?", "12"),
        ("A train leaves at 2 pm and travels for 3 hours. At what hour (pm) does it arrive?", "5"),
        ("小明有 7 支笔，送出 2 支。他还剩几支？", "5"),
        ("What is 9 minus 4 plus 10?", "15"),
    ]

    static let multipleChoice = [
        #"{"id": "mc-1", "question": "Where would you keep milk so it stays fresh?", "choices": [{"label": "A", "text": "bookshelf"}, {"label": "B", "text": "refrigerator"}, {"label": "C", "text": "oven"}], "answer": "B"}"#,
        #"{"id": "mc-2", "question": "用什么剪纸？", "choices": [{"label": "A", "text": "剪刀 ✂️"}, {"label": "B", "text": "锤子"}, {"label": "C", "text": "勺子"}], "answer": "A"}"#,
        #"{"id": "mc-3", "question": "If you feel cold, what would you put on?", "choices": [{"label": "A", "text": "sandals"}, {"label": "B", "text": "sunglasses"}, {"label": "C", "text": "a sweater"}], "answer": "C"}"#,
    ]

    /// The example file pointed at the stand-in and the tiny model: no services (the teacher is already running),
    /// small data, every stage made quick; `change` may alter a stage's options afterwards.
    static func shrunk(_ name: String, dir: String, teacher: String, vars extra: [String: String],
                       epochs: Int = 1) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/scripts/pipelines/\(name)"))
        guard var p = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              var vars = p["vars"] as? [String: Any], var stages = p["stages"] as? [[String: Any]] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: name])
        }
        vars["student"] = dir + "/tiny.gguf"
        if vars["teacher_weights"] != nil { vars["teacher_weights"] = dir + "/tiny.gguf" }
        for key in ["teacher", "judge"] where vars[key] != nil { vars[key] = teacher }
        for (k, v) in extra { vars[k] = v }
        p["services"] = nil
        for i in stages.indices {
            stages[i]["needs"] = nil
            var options = stages[i]["options"] as? [String: Any] ?? [:]
            switch stages[i]["command"] as? String {
            case "harvest":
                options["prompts"] = HarvestCommandTests.promptsDirectory
                if options["paths"] != nil { options["paths"] = 2 }
                if let n = options["num-samples"] as? Int { options["num-samples"] = n > 30 ? 8 : 4 }
            case "generate": options["max-tokens"] = 8
            case "train":
                // The tiny model's tokens are bytes: an explanation with its question needs more than 64.
                options["max-seq"] = 256
                options["threads"] = 1
                options["epochs"] = epochs
                options["batch"] = 8
            default: break
            }
            if !options.isEmpty { stages[i]["options"] = options }
        }
        p["vars"] = vars
        p["stages"] = stages
        p["out"] = dir + "/run"
        let path = dir + "/" + name
        try JSONSerialization.data(withJSONObject: p, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func run(_ pipeline: String, dir: String) async throws -> (status: Int32, log: String) {
        let binary = try #require(HarvestCrashTests.binary, "build the distill binary first")
        let log = dir + "/log-\(UUID().uuidString).txt"
        let p = try HarvestCrashTests.launch(binary, ["run", pipeline], log: log)
        await HarvestCrashTests.waitForExit(p)
        return (p.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Runs `name` three times: fresh (all stages run), unchanged (all skipped), train's epochs changed (only
    /// `reRun` re-runs, in order). Returns the folder the pipeline wrote.
    static func threeRuns(_ name: String, dir: String, teacher: TeacherStandIn, vars: [String: String],
                          stages: Int, reRun: [String]) async throws {
        let pipeline = try shrunk(name, dir: dir, teacher: teacher.baseURL, vars: vars)
        let first = try await run(pipeline, dir: dir)
        try #require(first.status == 0, "\(first.log)")
        #expect(first.log.components(separatedBy: ": done in").count - 1 == stages, "\(first.log)")

        let again = try await run(pipeline, dir: dir)
        #expect(again.status == 0, "\(again.log)")
        #expect(again.log.components(separatedBy: "unchanged, skipped").count - 1 == stages, "\(again.log)")

        let changed = try await run(try shrunk(name, dir: dir, teacher: teacher.baseURL, vars: vars, epochs: 2), dir: dir)
        #expect(changed.status == 0, "\(changed.log)")
        let ran = changed.log.split(separator: "\n").filter { $0.contains(": changed, re-running") }
            .compactMap { $0.split(separator: "] ").last?.split(separator: ":").first.map(String.init) }
        #expect(ran == reRun, "\(changed.log)")
        #expect(changed.log.components(separatedBy: "unchanged, skipped").count - 1 == stages - reRun.count, "\(changed.log)")
    }

    static func standIn() throws -> TeacherStandIn {
        var answers = Dictionary(uniqueKeysWithValues: reasoning.map { ($0.0, $0.1) })
        answers["3+3=?"] = "6"
        return try TeacherStandIn(handler: RecipeTeacher(answers: answers).handler)
    }

    @Test(.timeLimit(.minutes(2))) func seed001CoTRunsEndToEnd() async throws {
        let dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try HarvestCommandTests.write(Self.reasoning.enumerated().map { i, q in
            String(decoding: try JSONSerialization.data(withJSONObject: ["id": "r\(i)", "question": q.0, "answer": q.1],
                                                        options: .sortedKeys), as: UTF8.self)
        }, dir + "/reasoning.jsonl")
        try HarvestCommandTests.write([
            #"{"instruction": "3+3=?", "input": "", "output": "6"}"#,
            #"{"instruction": "5 个苹果吃掉 2 个，还剩几个？", "input": "", "output": "3"}"#,
        ], dir + "/test.jsonl")
        let teacher = try Self.standIn()
        defer { teacher.stop() }
        try await Self.threeRuns("seed001-cot.json", dir: dir, teacher: teacher,
                                 vars: ["items": dir + "/reasoning.jsonl", "test": dir + "/test.jsonl"], stages: 6,
                                 reRun: ["train-multitask", "gen-after", "accuracy", "report"])
        // Every path of every item reached the gold answer, so every one was kept.
        let cot = HarvestCommandTests.rows(dir + "/run/cot/cot.jsonl")
        #expect(cot.count == Self.reasoning.count * 2 && cot.allSatisfy { $0["correct"] as? Bool == true })
        let report = try String(contentsOfFile: dir + "/run/accuracy/report.md", encoding: .utf8)
        #expect(report.contains("before") && report.contains("multitask"))
    }

    @Test(.timeLimit(.minutes(2))) func seed002ExplanationsRunsEndToEnd() async throws {
        let dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try HarvestCommandTests.write(Self.multipleChoice, dir + "/mc.jsonl")
        let teacher = try Self.standIn()
        defer { teacher.stop() }
        try await Self.threeRuns("seed002-explanations.json", dir: dir, teacher: teacher, vars: ["items": dir + "/mc.jsonl"],
                                 stages: 10, reRun: ["train", "gen-after", "accuracy", "explanations",
                                                     "report-accuracy", "report-explanations"])
        #expect(HarvestCommandTests.rows(dir + "/run/critique/sft.jsonl").count == 3)
        #expect(HarvestCommandTests.rows(dir + "/run/counterfactual/counterfactual.jsonl").count == 6)
        let report = try String(contentsOfFile: dir + "/run/explanations/report.md", encoding: .utf8)
        #expect(report.contains("Plausibility") && report.contains("MT+CF"))
    }

    @Test(.timeLimit(.minutes(2))) func seed003LoRAChineseRunsEndToEnd() async throws {
        let dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        let teacher = try Self.standIn()
        defer { teacher.stop() }
        try await Self.threeRuns("seed003-lora-zh.json", dir: dir, teacher: teacher, vars: [:], stages: 9,
                                 reRun: ["train", "gen-student", "judge", "report"])
        let data = HarvestCommandTests.rows(dir + "/run/data/generate-data.jsonl")
        #expect(data.count == 8 && data.allSatisfy { ($0["output"] as? String)?.unicodeScalars.contains { $0.value >= 0x4E00 } == true })
        let report = try String(contentsOfFile: dir + "/run/judge/report.md", encoding: .utf8)
        #expect(report.contains("teacher") && report.contains("before") && report.contains("student"))
    }
}
