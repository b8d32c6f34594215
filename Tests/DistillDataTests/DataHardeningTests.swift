import Foundation
import Testing
@testable import DistillData

/// Issue 13's data items: lossy mojibake, outputs through links and devices, harvest outputs into every training
/// format with bad rows dropped and counted, split's default size, a progress line that fits the terminal.
@Suite struct DataHardeningTests {
    /// Python's cp1252 decoder with errors="ignore" drops the undefined bytes: each such text is still flagged, and
    /// the repair restores every character it can, marking each lost one with U+FFFD in its place.
    @Test func lossyMojibakeIsFlaggedAndRepairedWhereRecoverable() throws {
        #expect(ReferenceFixtures.lossyMojibake.count >= 4)
        for (broken, original) in ReferenceFixtures.lossyMojibake {
            let f = try #require(Mojibake.detect(broken), "not detected: \(broken)")
            #expect(f.lost > 0)
            let repaired = Array(f.repaired), want = Array(original)
            #expect(repaired.count == want.count, "\(f.repaired) vs \(original)")
            for (r, w) in zip(repaired, want) { #expect(r == w || r == "\u{FFFD}", "\(f.repaired) vs \(original)") }
            #expect(f.lost >= 1 && repaired.filter { $0 == "\u{FFFD}" }.count >= f.lost)
        }
        // The issue's own sample (a copy that also lost the "ž").
        let sample = try #require(Mojibake.detect("æ¨¡å‹è’¸é¦"))
        #expect(sample.repaired.hasPrefix("模") && sample.repaired.contains("蒸") && sample.lost == 2)
    }

    @Test func outputWritesThroughSymlinksAndNeverReplacesADevice() throws {
        let dir = TestFolder()
        let input = dir.write("in.jsonl", #"{"instruction": "你好", "input": "", "output": "好"}"# + "\n")
        let target = dir.write("target.jsonl", "old\n")
        let link = dir.path + "/link.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.jsonl")
        _ = try DatasetConverter(to: .chatJSONL).convert(input: input, output: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "target.jsonl", "the link was replaced")
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("\"messages\""))
        #expect(try OutputFile.target("/dev/null") == .direct("/dev/null"))
        _ = try DatasetConverter(to: .chatJSONL).convert(input: input, output: "/dev/null")
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR, "/dev/null is no longer a device")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).allSatisfy { !$0.hasPrefix(".null.tmp-") })
    }

    static let rows: [String: String] = [
        "cot.jsonl": #"""
            {"id": "q1", "question": "6 × 7?", "rationale": "六乘七得四十二。", "answer": "42", "gold": "42", "correct": true, "path": 0}
            {"id": "q1", "question": "6 × 7?", "rationale": "六乘七得四十一。", "answer": "41", "gold": "42", "correct": false, "path": 1}
            {"id": "q2", "question": "1 + 1?", "rationale": "一加一", "answer": "2", "gold": "2", "correct": true, "path": 0, "truncated": true}
            """#,
        "counterfactual.jsonl": #"""
            {"id": "m1", "question": "哪个是水果？", "choices": [{"label": "A", "text": "石头"}, {"label": "B", "text": "苹果"}], "answer": "B", "wrong_answer": "A", "wrong_text": "石头", "explanation": "石头很硬，像坚果。"}
            {"id": "m2", "question": "哪个是水果？", "choices": [{"label": "A", "text": "铁"}, {"label": "B", "text": "梨"}], "answer": "B", "wrong_answer": "A", "wrong_text": "铁", "explanation": ""}
            """#,
        "critique-revise.jsonl": #"""
            {"id": "c1", "question": "Why is the sky blue?", "answer": "Rayleigh", "explanation": "e", "critique": "c", "revised": "Rayleigh scattering 🌤"}
            """#,
        "preferences.jsonl": #"""
            {"id": "c1", "prompt": "Why is the sky blue?", "chosen": "Rayleigh scattering 🌤", "rejected": "Because."}
            {"id": "c2", "prompt": "Why?", "chosen": "", "rejected": "No."}
            """#,
        "generate-data.jsonl": #"""
            {"input": "今天的天气真好", "output": "positive"}
            {"input": "服务太慢了", "output": " "}
            """#,
        "answer.jsonl": #"""
            {"id": "1", "instruction": "问题", "input": "", "output": "半句", "sample": 0, "finish_reason": "length", "truncated": true}
            {"id": "2", "instruction": "问题二", "input": "", "output": "整句", "sample": 0, "finish_reason": "stop"}
            """#,
    ]

    /// (file, detected format, rows kept, rows dropped)
    @Test(arguments: [("cot.jsonl", DatasetFormat.rationale, 1, 2), ("counterfactual.jsonl", .counterfactual, 1, 1),
                      ("critique-revise.jsonl", .critiqueRevise, 1, 0), ("preferences.jsonl", .preference, 1, 1),
                      ("generate-data.jsonl", .alpacaJSONL, 1, 1), ("answer.jsonl", .alpacaJSONL, 1, 1)])
    func everyHarvestOutputConvertsToEveryTrainingFormat(file: String, format: DatasetFormat, kept: Int, dropped: Int) throws {
        let dir = TestFolder()
        let input = dir.write(file, (Self.rows[file] ?? "") + "\n")
        #expect(try DatasetFormat.detect(path: input) == format)
        for to in DatasetFormat.targets where to != .dpo || format == .preference {
            let out = dir.path + "/out-\(to.rawValue).jsonl"
            let s = try DatasetConverter(to: to).convert(input: input, output: out)
            #expect(s.items == kept && s.dropped.values.reduce(0, +) == dropped, "\(file) → \(to.rawValue): \(s.dropped)")
            let text = try String(contentsOfFile: out, encoding: .utf8)
            #expect(!text.contains("四十一") && !text.contains("半句"), "a dropped row was written: \(file) → \(to.rawValue)")
        }
        let trl = try String(contentsOfFile: dir.path + "/out-trl-prompt-completion.jsonl", encoding: .utf8)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(trl.split(separator: "\n")[0].utf8)) as? [String: Any])
        let completion = try #require(row["completion"] as? [[String: String]])
        #expect(completion.count == 1 && completion[0]["role"] == "assistant" && !(completion[0]["content"] ?? "").isEmpty)
        if file == "counterfactual.jsonl" { #expect(trl.contains("石头很硬"), "the rationale was dropped") }
        if file == "cot.jsonl" { #expect(trl.contains("六乘七得四十二") && trl.contains("42")) }
    }

    @Test func preferencesExportAsDPOPairs() throws {
        let dir = TestFolder()
        let input = dir.write("preferences.jsonl", (Self.rows["preferences.jsonl"] ?? "") + "\n")
        let s = try DatasetConverter(to: .dpo).convert(input: input, output: dir.path + "/dpo.jsonl")
        #expect(s.items == 1)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(dir.read("dpo.jsonl").split(separator: "\n")[0].utf8))
                               as? [String: [[String: String]]])
        #expect(row["prompt"]?.last?["content"] == "Why is the sky blue?")
        #expect(row["chosen"]?.first?["content"] == "Rayleigh scattering 🌤" && row["rejected"]?.first?["content"] == "Because.")
        let answers = dir.write("answers.jsonl", (Self.rows["answer.jsonl"] ?? "") + "\n")
        #expect(throws: DataError.self) { try DatasetConverter(to: .dpo).convert(input: answers, output: dir.path + "/x.jsonl") }
    }

    @Test func splitDefaultsToTenPercentOfASmallFile() throws {
        let dir = TestFolder()
        let input = dir.write("small.jsonl", (1...30).map { #"{"instruction": "问题 \#($0)", "output": "答"}"# }.joined(separator: "\n") + "\n")
        let (train, test) = try DatasetSplitter().split(input: input, trainOut: dir.path + "/tr.jsonl", testOut: dir.path + "/te.jsonl")
        #expect(train == 27 && test == 3)
        #expect(DatasetSplitter.defaultTestSize(items: 100_000) == 2048)
    }

    @Test func progressLineFitsEightyColumns() {
        let line = "harvest answer 1200/3000 (40%) · ok 1180 resumed 12 failed 8 retries 31 (429s 9) · 58 rpm/600 · 12k tpm/100k · "
            + "tokens in 30k out 60k · $0.0120 → $0.0300 · ETA 2m10s"
        #expect(ProgressReporter.width(line) > 120)
        let fitted = ProgressReporter.fit(line, columns: 79)
        #expect(ProgressReporter.width(fitted) <= 79)
        #expect(fitted.hasPrefix("harvest answer 1200/3000") && fitted.contains("$0.0120 → $0.0300") && fitted.hasSuffix("ETA 2m10s"))
        #expect(ProgressReporter.width(ProgressReporter.fit(String(repeating: "蒸馏", count: 60), columns: 79)) <= 79)
    }
}
