import DistillData
import Foundation
import Testing
@testable import DistillJudge

/// A synthetic journal: 3 models × 200 items with seeded scores, a few unscored items, and hostile text.
enum SyntheticJournal {
    static func make(items: Int = 200) -> [Judgment] {
        var rng = SplitMix64(seed: 42)
        var out: [Judgment] = []
        let models = [("Teacher(CE)", 4.2), ("Student(CE)", 3.6), ("Student(JS_KL)", 3.7)]
        for (mi, (label, centre)) in models.enumerated() {
            for i in 0..<items {
                let draw = { () -> Int in
                    let u = Double(rng.next() % 1000) / 1000
                    return min(5, max(0, Int((centre + (u - 0.5) * 3).rounded())))
                }
                let invalid = (i * 7 + mi * 3) % 97 == 0
                var j = Journal.line(label, i, invalid ? nil : [draw(), draw(), draw(), draw()], reason: .missingKey,
                                     output: i == 3 ? "<script>alert('x')</script> & \"quotes\", commas\nand 换行 🚀" : "\(label) 的回答 \(i) ✅",
                                     reference: "参考 \(i)")
                j.reason = invalid ? nil : "理由 \(i) <b>not bold</b>"
                j.attempts = [JudgeAttempt(kind: .first, format: .jsonSchema, reply: invalid ? "<img src=x onerror=alert(1)>" : "{\"Correctness\": …}",
                                           finishReason: "stop", rung: invalid ? nil : .strict, problems: j.problems)]
                out.append(j)
            }
        }
        return out
    }

    static func manifest(items: Int = 200) -> JudgeManifest {
        JudgeManifest(judgeModel: "glm-4-flash", endpoint: "http://127.0.0.1:8080/v1", keyEnv: "ZHIPU_API_KEY", rubric: "seed-000",
                      rubricVersion: String(repeating: "ab", count: 32), criteria: Journal.criteria, scaleMin: 0, scaleMax: 5,
                      replyFormat: "json_schema", temperature: 0, repeats: 1,
                      inputs: ["Teacher(CE)", "Student(CE)", "Student(JS_KL)"].map { .init(label: $0, path: "\($0).jsonl", sha256: "", items: items) },
                      teacherLabel: "Teacher(CE)", teacherModel: "Qwen2.5-7B-Instruct", baselineLabel: nil, referenceFromTeacher: false)
    }

    /// Writes the journal and manifest into a new folder and returns it.
    static func folder() throws -> String {
        let dir = try GenerationFiles.folder()
        let appender = try JSONLinesAppender(path: dir + "/judgments.jsonl")
        for j in make() { try appender.append(json: j) }
        try manifest().write(to: dir)
        return dir
    }
}

struct ReportTests {
    @Test func threeModelsTwoHundredItemsRender() throws {
        let dir = try SyntheticJournal.folder()
        var writer = try ReportWriter(directory: dir)
        writer.bootstrap = Bootstrap(resamples: 2000)
        let w = try writer.write(to: dir + "/report")
        let md = try String(contentsOfFile: w.markdown, encoding: .utf8)
        #expect(md.contains("| Method (Loss_fn) | Valid Data | Correctness | Completeness | Relevance | Fluency | Overall |"))
        let teacher = try #require(w.summary.models.first)
        #expect(md.contains("| Teacher(CE) | \(teacher.nValid) / 200 | \(ReportFormat.interval(teacher.criteria[0].mean)) |"))
        #expect(w.summary.models.map(\.nValid).allSatisfy { $0 < 200 && $0 > 190 })

        let html = try String(contentsOfFile: w.html, encoding: .utf8)
        // Hostile text from outputs and judge replies is escaped, never live markup.
        #expect(!html.contains("<script>alert") && !html.contains("<img src=x") && !html.contains("<b>not bold</b>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        // Self-contained: no external references at all.
        #expect(!html.contains("http://") || !html.contains("src=\"http"))
        // One script only: the drill-down filter, inline, loading nothing.
        #expect(!html.contains("<link") && html.components(separatedBy: "<script").count - 1 == 1 && !html.contains("<script src"))
        #expect(html.contains("<select id=\"f-model\"><option value=\"\">all</option><option value=\"Teacher(CE)\">Teacher(CE)</option>"))
        #expect(html.contains("<select id=\"f-crit\"><option value=\"\">any</option><option value=\"0\">Correctness</option>"))
        #expect(html.contains("id=\"f-unscored\"") && html.contains("200 of 200 items shown"))
        #expect(html.contains("<div class=\"model\" data-model=\"Student(CE)\" data-status=\"unscored\" style="))
        #expect(html.contains("<div class=\"model\" data-model=\"Teacher(CE)\" data-status=\"scored\" data-c0=\""))
        #expect(html.components(separatedBy: "<details class=\"item\"").count - 1 == 200)
        #expect(html.components(separatedBy: "<svg class=\"hist\"").count - 1 == 12)
        #expect(html.components(separatedBy: "class=\"whisker\"").count - 1 == 3 * 5)
        #expect(html.contains("Qwen2.5-7B-Instruct") && html.contains("🚀"))

        let csv = try String(contentsOfFile: w.csv, encoding: .utf8)
        let rows = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.first?.hasPrefix("model,item,repeat,status,step,Correctness,Completeness,Relevance,Fluency,") == true)
        #expect(csv.contains("\"<script>alert('x')</script> & \"\"quotes\"\", commas\nand 换行 🚀\""))
        let summaryJSON = try Data(contentsOf: URL(fileURLWithPath: w.json))
        #expect((try JSONSerialization.jsonObject(with: summaryJSON) as? [String: Any])?["models"] != nil)
    }

    @Test func reportNeedsJudgments() {
        #expect { try ReportWriter(directory: "/nonexistent-dir") } throws: { "\($0)".contains("no judgments here") }
    }
}
