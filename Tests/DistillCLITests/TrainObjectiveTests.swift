import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `distill train --loss …` end to end on the tiny model, from harvest-format rows written here (the shapes the cot,
/// counterfactual, icl and answer --top-logprobs recipes write): each objective trains, logs each of its terms, and
/// the bad cases are refused with exit 64 (usage) or 1 (data).
@Suite struct TrainObjectiveTests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-objectives-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try TinyModel.writeGGUF(to: dir + "/teacher.gguf", seed: 7)
    }

    func write(_ name: String, _ lines: [String]) throws -> String {
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        return dir + "/" + name
    }

    /// cot.jsonl rows (one wrong path, skipped).
    func cot() throws -> String {
        try write("cot.jsonl", (0..<12).map { i in
            #"{"id": "q\#(i)", "question": "Which is bigger, \#(i) or \#(i + 1)? (A) \#(i) (B) \#(i + 1)", "rationale": "\#(i + 1) comes after \#(i), so it is the bigger one 好", "answer": "B", "gold": "B", "correct": true, "path": 0}"#
        } + [#"{"id": "q0", "question": "Which is bigger, 0 or 1?", "rationale": "zero", "answer": "A", "gold": "B", "correct": false, "path": 1}"#])
    }

    /// counterfactual.jsonl rows: one per wrong choice.
    func counterfactual() throws -> String {
        try write("counterfactual.jsonl", (0..<12).map { i in
            #"{"id": "q\#(i)", "question": "Which is bigger, \#(i) or \#(i + 1)?", "choices": [{"label": "A", "text": "\#(i)"}, {"label": "B", "text": "\#(i + 1)"}], "answer": "B", "wrong_answer": "A", "wrong_text": "\#(i)", "explanation": "if the count went down, \#(i) would be bigger 🙂"}"#
        })
    }

    func args(_ data: [String], _ out: String, _ extra: [String]) -> [String] {
        ["train", "--model", dir + "/tiny.gguf", "--data"] + data + ["--out", dir + "/" + out, "--epochs", "2", "--batch", "4",
         "--max-seq", "256", "--lora-r", "4", "--lora-alpha", "8", "--lr", "1e-2", "--val-split", "0.1", "--eval-every", "4",
         "--threads", "1", "--export", "peft"] + extra
    }

    /// The step lines of DIR/train-log.jsonl, parsed.
    func log(_ out: String) throws -> [[String: Double]] {
        let text = try String(contentsOfFile: dir + "/" + out + "/train-log.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?.compactMapValues { $0 as? Double }
        }.filter { $0["loss"] != nil }
    }

    @Test func multitaskLogsBothTasksAndRecordsThePromptFormat() async throws {
        let cot = try cot()
        #expect(await DistillCLI.main(args([cot], "mt", ["--loss", "multitask", "--alpha", "0.5", "--answer-prefix", "[答] "])) == 0)
        let steps = try log("mt")
        // Every step logs the terms its batch holds; over the run both tasks appear, and nothing else.
        #expect(!steps.isEmpty && steps.allSatisfy { $0["loss_answer"] != nil || $0["loss_rationale"] != nil })
        #expect(Set(steps.flatMap(\.keys).filter { $0.hasPrefix("loss_") }) == ["loss_answer", "loss_rationale"])
        let format = try String(contentsOfFile: dir + "/mt/prompt-format.json", encoding: .utf8)
        #expect(format.contains(#""answer_prefix":"[答] ""#) && format.contains(#""objective":"multitask""#))
        // One target, answer then rationale.
        #expect(await DistillCLI.main(args([cot], "mt-after", ["--loss", "multitask", "--rationale-after"])) == 0)
        #expect(try log("mt-after").allSatisfy { $0["loss_answer_rationale"] != nil })
    }

    @Test func counterfactualBothFormsLogFourTerms() async throws {
        let cot = try cot(), cf = try counterfactual()
        for form in ["input", "scott"] {
            #expect(await DistillCLI.main(args([cot, cf], "cf-\(form)", ["--loss", "counterfactual", "--counterfactual-form", form])) == 0)
            let steps = try log("cf-\(form)")
            let names = Set(steps.flatMap(\.keys).filter { $0.hasPrefix("loss_") })
            #expect(names == ["loss_predict", "loss_explain", "loss_factual", "loss_counterfactual"], "\(form): \(names)")
        }
        // Counterfactual rows alone: the counterfactual term only.
        #expect(await DistillCLI.main(args([cf], "cf-only", ["--loss", "counterfactual"])) == 0)
        #expect(try log("cf-only").allSatisfy { $0.keys.filter { $0.hasPrefix("loss_") }.sorted() == ["loss_counterfactual"] })
        // A file with nothing for the objective: refused, naming it.
        let other = try write("alpaca.jsonl", [#"{"instruction": "hi", "output": "hello"}"#])
        #expect(await DistillCLI.main(args([other], "cf-bad", ["--loss", "counterfactual"])) == 1)
    }

    @Test func iclFewShotZeroShotAndHeldOutTasks() async throws {
        let rows = (0..<12).map { i in
            let task = i % 3 == 0 ? "sentiment" : "arithmetic"
            return #"{"id": "i\#(i)", "task": "\#(task)", "instruction": "Add \#(i) and 1", "input": "", "output": "\#(i + 1)", "demonstrations": [{"id": "d", "instruction": "Add 2 and 1", "input": "", "output": "3"}], "prompt": "Example 1\nInstruction: Add 2 and 1\nOutput: 3\n\nInstruction: Add \#(i) and 1\nOutput:"}"#
        }
        let icl = try write("icl.jsonl", rows)
        #expect(await DistillCLI.main(args([icl], "icl", ["--loss", "icl"])) == 0)
        #expect(try log("icl").allSatisfy { $0["loss_icl"] != nil })
        #expect(await DistillCLI.main(args([icl], "icl0", ["--loss", "icl", "--zero-shot", "--hold-out-tasks", "sentiment"])) == 0)
        let evals = try String(contentsOfFile: dir + "/icl0/train-log.jsonl", encoding: .utf8).split(separator: "\n").filter { $0.contains("eval_loss") }
        #expect(!evals.isEmpty, "held-out tasks are evaluated")
        #expect(await DistillCLI.main(args([icl], "icl-none", ["--loss", "icl", "--hold-out-tasks", "nosuchtask"])) == 1)
    }

    @Test func denseKDFromALocalTeacher() async throws {
        let data = try write("answer.jsonl", (0..<16).map { #"{"id": "a\#($0)", "instruction": "Say \#($0)", "input": "", "output": "the \#($0) the end 好", "sample": 0}"# })
        for loss in ["kl-forward", "kl-reverse", "js", "skew"] {
            // KD alone (α 0), every item in each step: the divergence to the teacher must fall.
            #expect(await DistillCLI.main(args([data], loss, ["--loss", loss, "--teacher-model", dir + "/teacher.gguf", "--temperature", "2",
                                                              "--alpha", "0", "--batch", "16", "--epochs", "6"])) == 0)
            let steps = try log(loss)
            let kd = loss == "js" ? "loss_js" : loss == "skew" ? "loss_skew_kl" : "loss_" + loss.replacingOccurrences(of: "-", with: "_")
            #expect(steps.allSatisfy { $0["loss_ce"] != nil && $0[kd] != nil }, "\(loss)")
            #expect(steps.last![kd]! < steps.first![kd]!, "\(loss): the student moves towards the teacher")
        }
        #expect(await DistillCLI.main(args([data], "no-teacher", ["--loss", "js"])) == 64)
        #expect(await DistillCLI.main(args([data], "bad-loss", ["--loss", "mse"])) == 64)
    }

    @Test func topKFromHarvestedLogprobsAndTheMismatchGuard() async throws {
        let (_, tok) = try ModelFiles.load(dir + "/tiny.gguf")
        // A teacher with the student's tokenizer: its tokens are the student's own, alternatives one byte each.
        func row(_ i: Int, merged: Bool) -> String {
            let output = "the \(i) the end 好"
            let ids = merged ? [] : tok.encode(output)
            let pieces: [[UInt8]] = merged ? output.split(separator: " ", omittingEmptySubsequences: false).enumerated()
                .map { Array((($0.offset == 0 ? "" : " ") + $0.element).utf8) } : ids.map { tok.tokenBytes($0) }
            let entries = pieces.map { b -> String in
                let alt = #"{"token": "x", "bytes": [120], "logprob": -2.5}"#
                return #"{"token": "", "bytes": \#(b), "logprob": -0.2, "top_logprobs": [{"token": "", "bytes": \#(b), "logprob": -0.2}, \#(alt)]}"#
            }
            return #"{"id": "a\#(i)", "instruction": "Say \#(i)", "input": "", "output": "\#(output)", "sample": 0, "logprobs": [\#(entries.joined(separator: ", "))]}"#
        }
        let good = try write("topk.jsonl", (0..<16).map { row($0, merged: false) })
        for variant in ["tail", "zero"] {
            #expect(await DistillCLI.main(args([good], "topk-\(variant)", ["--loss", "topk", "--topk-variant", variant])) == 0)
            let steps = try log("topk-\(variant)")
            #expect(steps.allSatisfy { $0["loss_topk_\(variant)"] != nil && $0["loss_ce"] != nil })
        }
        // Whole words as teacher tokens: the student spells them in several tokens, most positions do not match.
        let bad = try write("topk-words.jsonl", (0..<16).map { row($0, merged: true) })
        #expect(await DistillCLI.main(args([bad], "topk-bad", ["--loss", "topk"])) == 1)
        #expect(await DistillCLI.main(args([bad], "topk-forced", ["--loss", "topk", "--max-mismatch", "1"])) == 0)
    }

    @Test func exportsForTRLLlamaFactoryAndAxolotl() async throws {
        let cot = try cot()
        let trl = dir + "/mt-trl.jsonl", lf = dir + "/mt-lf.jsonl"
        #expect(await DistillCLI.main(["data", "export", "--data", cot, "--to", "trl", "--loss", "multitask", "--out", trl]) == 0)
        let rows = try String(contentsOfFile: trl, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 24)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any])
        let prompt = try #require((first["prompt"] as? [[String: String]])?.first)
        #expect(prompt["role"] == "user" && prompt["content"]?.hasPrefix("predict: ") == true && first["task"] as? String == "answer")
        #expect(await DistillCLI.main(["data", "export", "--data", cot, "--to", "llama-factory", "--loss", "multitask", "--out", lf]) == 0)
        #expect(try String(contentsOfFile: lf, encoding: .utf8).contains(#""instruction":"explain: Which is bigger"#))
        #expect(await DistillCLI.main(["data", "export", "--data", cot, "--to", "trl", "--out", trl]) == 64)

        // axolotl-kd: row j holds the teacher's top-k for input_ids[j+1], on reply tokens only.
        let (_, tok) = try ModelFiles.load(dir + "/tiny.gguf")
        let lines = (0..<3).map { i -> String in
            let output = "the \(i) end"
            let entries = tok.encode(output).map { id -> String in
                let b = tok.tokenBytes(id)
                return #"{"token": "", "bytes": \#(b), "logprob": -0.1, "top_logprobs": [{"token": "", "bytes": \#(b), "logprob": -0.1}, {"token": "q", "bytes": [113], "logprob": -3}]}"#
            }
            return #"{"id": "a\#(i)", "instruction": "Say \#(i)", "input": "", "output": "\#(output)", "sample": 0, "logprobs": [\#(entries.joined(separator: ", "))]}"#
        }
        let topk = try write("kd.jsonl", lines), kd = dir + "/kd-axolotl.jsonl"
        #expect(await DistillCLI.main(["data", "export", "--data", topk, "--to", "axolotl-kd", "--model", dir + "/tiny.gguf", "--out", kd]) == 0)
        let kdRows = try String(contentsOfFile: kd, encoding: .utf8).split(separator: "\n")
        #expect(kdRows.count == 3)
        for line in kdRows {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let ids = try #require(o["input_ids"] as? [Int]), labels = try #require(o["labels"] as? [Int])
            let tids = try #require(o["target_token_ids"] as? [[Int]]), mask = try #require(o["target_mask"] as? [[Int]])
            #expect(tids.count == ids.count && mask.count == ids.count && labels.count == ids.count)
            let masked = mask.indices.filter { mask[$0][0] == 1 }
            #expect(masked.count == tok.encode("the 0 end").count)
            for j in masked {
                #expect(tids[j][0] == ids[j + 1] && labels[j + 1] == ids[j + 1], "row \(j)")
                #expect(tids[j][1] == tok.encode("q")[0])
            }
        }
    }
}
