import DistillTestSupport
import Foundation
import Testing

/// scripts/pipelines/seed000-embedded.json (seed 000's comparison on the embedded model, ~45 min on 2 cores; its
/// results are in the README) is checked here without running it: every stage's command, options and references
/// resolve, in the order that makes the comparison (harvest, prune, five students, scores, generations, judge, report).
@Suite struct Seed000EmbeddedPipelineTests {
    @Test func everyStageResolvesInOrder() throws {
        let binary = try #require(HarvestCrashTests.binary, "build the distill binary first")
        let dir = try HarvestCommandTests.temporaryDirectory()
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try HarvestCommandTests.write([#"{"instruction": "2+2=?", "input": "", "output": "4"}"#], dir + "/train.jsonl")
        try HarvestCommandTests.write([#"{"instruction": "天空是什么颜色？", "input": "", "output": "蓝色。"}"#], dir + "/test.jsonl")
        let pipeline = try ExamplePipelineTests.shrunk("seed000-embedded.json", dir: dir)
        let log = dir + "/dry-run.txt"
        let p = try HarvestCrashTests.launch(binary, ["run", pipeline, "--dry-run"], log: log)
        p.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 0, "\(text)")
        // "run: [4/24] train-ce: new" — the stage's name between the position and the colon.
        let stages = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("run: ["), let close = line.firstIndex(of: "]") else { return nil }
            let rest = line[line.index(after: close)...].drop { $0 == " " }
            return rest.firstIndex(of: ":").map { String(rest[..<$0]) }
        }
        #expect(stages == ["harvest-train", "harvest-test", "student", "train-ce", "train-seqkd", "train-fkl", "train-rkl", "train-js",
                           "score-teacher", "score-before", "score-ce", "score-seqkd", "score-fkl", "score-rkl", "score-js", "compare",
                           "gen-teacher", "gen-ce", "gen-seqkd", "gen-fkl", "gen-rkl", "gen-js", "judge", "report"], "\(text)")
        let lines = text.split(separator: "\n").filter { $0.contains("distill train") }
        for loss in ["kl-forward", "kl-reverse", "js"] {
            #expect(lines.contains { $0.contains("--loss \(loss) ") && $0.contains("--alpha 0.5") && $0.contains("--teacher-model") }, "\(loss)")
        }
        #expect(text.contains("--labels teacher student-before CE SeqKD FKL RKL JS"))
        #expect(text.contains("--labels teacher CE SeqKD FKL RKL JS"))
    }
}
