import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `distill harvest` end to end, in process, against the loopback teacher stand-in.
@Suite struct HarvestCommandTests {
    /// A teacher that recognises each recipe's prompt (from the files in prompts/) and answers in kind.
    static func teacher(_ r: StandInRequest) -> StandInReply {
        let prompt = r.lastMessage ?? ""
        let n = r.sequence
        if prompt.contains("Therefore, the answer is") { return .chat(" 42.") }
        if prompt.contains("Let's think step by step.") { return .chat("6 × 7 = 42，所以答案是 42。") }
        if prompt.contains("new, diverse tasks") {
            let a = tasks[(2 * n) % tasks.count], b = tasks[(2 * n + 1) % tasks.count]
            return .chat(#"[{"instruction": "\#(a)", "input": ""}, {"instruction": "\#(b)", "input": "地铁延长了运营时间"}]"#)
        }
        if prompt.contains("You are writing training data") {
            return .chat(#"[{"input": "今天的天气真好 \#(n)", "output": "positive"}, {"input": "服务太慢了 \#(n)", "output": "negative"}]"#)
        }
        if prompt.contains("Critique of the explanation") { return .chat("Revised explanation 🍎 #\(n)") }
        if prompt.contains("Critique the explanation") { return .chat("Critique #\(n)") }
        return .chat("Teacher reply #\(n) 答案 🙂")
    }

    static let tasks = [
        "Describe the habitat of the snow leopard.", "用三句话总结这段关于城市交通的新闻", "Convert 72 degrees Fahrenheit to Celsius.",
        "Write a limerick about a forgetful robot.", "列出五种常见的水果并说明颜色", "Explain recursion to a ten-year-old child.",
        "Translate 'good morning' into Japanese and Korean.", "给这篇短文起一个吸引人的标题", "Suggest a name for a bakery in Paris.",
        "Classify these animals as mammals or birds: bat, owl.", "What causes ocean tides on Earth?", "把下面的句子改写成更正式的语气",
    ]

    static func standIn() throws -> TeacherStandIn {
        try TeacherStandIn { teacher($0) }
    }

    static func run(_ args: [String]) async -> Int32 {
        await DistillCLI.main(args)
    }

    static func common(_ standIn: TeacherStandIn, out: String) -> [String] {
        ["--teacher", standIn.baseURL, "--model", "stand-in", "--out", out, "--prompts", promptsDirectory,
         "--concurrency", "4", "--attempts", "3", "--retry-base", "0.01"]
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var promptsDirectory: String { repositoryRoot.appendingPathComponent("prompts").path }

    static func temporaryDirectory(_ name: String = #function) throws -> String {
        let path = NSTemporaryDirectory() + "distill-cli-harvest-\(name.filter(\.isLetter))-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ lines: [String], _ path: String) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    static func rows(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// Small inputs for every recipe, with Chinese and emoji.
    static func inputs(_ dir: String) throws -> (instructions: String, questions: String, mc: String) {
        let instructions = dir + "/instructions.jsonl"
        try write((1...6).map { #"{"instruction": "问题 \#($0)：用一句话解释 \#($0) 🙂", "input": "", "output": "回答 \#($0)", "task": "t\#($0 % 2)"}"# },
                  instructions)
        let questions = dir + "/questions.jsonl"
        try write((1...4).map { #"{"id": "q\#($0)", "question": "What is 6 × 7? (\#($0))", "answer": "42"}"# }, questions)
        let mc = dir + "/mc.jsonl"
        try write((1...3).map {
            #"{"id": "m\#($0)", "question": "哪个是水果？\#($0)", "choices": [{"label": "A", "text": "石头"}, {"label": "B", "text": "苹果"}, {"label": "C", "text": "铁"}], "answer": "B"}"#
        }, mc)
        return (instructions, questions, mc)
    }

    @Test(arguments: [
        ("answer", "answer.jsonl", 12), ("cot", "cot.jsonl", 8), ("critique-revise", "preferences.jsonl", 3),
        ("counterfactual", "counterfactual.jsonl", 6), ("icl", "icl.jsonl", 6), ("self-instruct", "self-instruct.jsonl", 5),
        ("generate-data", "generate-data.jsonl", 12),
    ])
    func recipeRunsFromTheCLI(recipe: String, file: String, rows expected: Int) async throws {
        let dir = try Self.temporaryDirectory()
        let standIn = try Self.standIn()
        defer { standIn.stop() }
        let (instructions, questions, mc) = try Self.inputs(dir)
        var args = ["harvest", "--recipe", recipe] + Self.common(standIn, out: dir + "/run")
        switch recipe {
        case "answer": args += ["--data", instructions, "--samples", "2", "--top-logprobs", "3"]
        case "cot": args += ["--data", questions, "--paths", "2"]
        case "critique-revise": args += ["--data", mc]
        case "counterfactual": args += ["--data", mc]
        case "icl": args += ["--data", instructions, "--shots", "2"]
        case "self-instruct": args += ["--data", instructions, "--num-instructions", "5", "--per-request", "2"]
        default: args += ["--task", "中文文本情感分类（positive/negative/neutral）", "--num-samples", "12", "--per-request", "2"]
        }
        #expect(await Self.run(args) == 0)
        let out = Self.rows(dir + "/run/" + file)
        #expect(out.count == expected, "\(recipe): \(file)")
        let journal = Self.rows(dir + "/run/journal.jsonl")
        #expect(journal.count == standIn.requestCount, "every request the teacher saw is journaled once")
        #expect(FileManager.default.fileExists(atPath: dir + "/run/manifest.json"))
        // A second run resumes: nothing is sent and the outputs are the same.
        let before = standIn.requestCount
        let first = try String(contentsOfFile: dir + "/run/" + file, encoding: .utf8)
        #expect(await Self.run(args) == 0)
        #expect(standIn.requestCount == before)
        #expect(try String(contentsOfFile: dir + "/run/" + file, encoding: .utf8) == first)
    }

    @Test func changedConfigurationIsRefusedThenNewStartsOver() async throws {
        let dir = try Self.temporaryDirectory()
        let standIn = try Self.standIn()
        defer { standIn.stop() }
        let (instructions, _, _) = try Self.inputs(dir)
        let base = ["harvest", "--recipe", "answer", "--data", instructions] + Self.common(standIn, out: dir + "/run")
        #expect(await Self.run(base) == 0)
        #expect(await Self.run(base + ["--temperature", "0.2"]) == 1)
        #expect(standIn.requestCount == 6)
        // Operational knobs are not part of the fingerprint.
        #expect(await Self.run(base + ["--concurrency", "1", "--fsync"]) == 0)
        #expect(standIn.requestCount == 6)
        #expect(await Self.run(base + ["--temperature", "0.2", "--new"]) == 0)
        #expect(standIn.requestCount == 12)
        let moved = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("run.replaced-") }
        #expect(moved.count == 1)
    }

    @Test func batchModeRunsFromTheCLI() async throws {
        let dir = try Self.temporaryDirectory()
        let provider = BatchAPIStandIn()
        let standIn = try TeacherStandIn { provider.handle($0) }
        defer { standIn.stop() }
        let (instructions, _, _) = try Self.inputs(dir)
        let args = ["harvest", "--recipe", "answer", "--data", instructions, "--batch", "--batch-poll", "0.02"]
            + Self.common(standIn, out: dir + "/run")
        #expect(await Self.run(args) == 0)
        let out = Self.rows(dir + "/run/answer.jsonl")
        #expect(out.count == 6 && out.allSatisfy { $0["output"] as? String == "answer 🍎" })
        // The first batch expired with half its lines answered; only the other half was submitted again.
        #expect(provider.state.withLock { $0.submittedIDs.map(\.count) } == [6, 3])
        #expect(FileManager.default.fileExists(atPath: dir + "/run/batches.json"))
        #expect(await Self.run(["harvest", "--recipe", "self-instruct", "--data", instructions, "--batch",
                                "--teacher", standIn.baseURL, "--model", "m"]) == 64)
    }

    @Test func usageErrorsExit64() async throws {
        #expect(await Self.run(["harvest", "--recipe", "nope", "--teacher", "http://127.0.0.1:9/v1", "--model", "m"]) == 64)
        #expect(await Self.run(["harvest", "--recipe", "answer", "--teacher", "http://127.0.0.1:9/v1", "--model", "m"]) == 64)
        #expect(await Self.run(["harvest", "--recipe", "answer", "--data", "x", "--teacher", "http://127.0.0.1:9/v1",
                                "--model", "m", "--shard", "3/2"]) == 64)
        #expect(await Self.run(["harvest", "--recipe", "cot", "--data", "x", "--teacher", "http://127.0.0.1:9/v1",
                                "--model", "m", "--temperature", "0"]) == 64)
    }

    @Test func shardsMergeIntoTheSameOutputsAsOneRun() async throws {
        let dir = try Self.temporaryDirectory()
        let standIn = try TeacherStandIn { r in .chat("reply to " + (r.lastMessage ?? "").prefix(8)) }
        defer { standIn.stop() }
        let (instructions, _, _) = try Self.inputs(dir)
        func args(_ out: String) -> [String] {
            ["harvest", "--recipe", "answer", "--data", instructions] + Self.common(standIn, out: out)
        }
        #expect(await Self.run(args(dir + "/s1") + ["--shard", "1/2"]) == 0)
        #expect(await Self.run(args(dir + "/s2") + ["--shard", "2/2"]) == 0)
        #expect(standIn.requestCount == 6)
        let a = Self.rows(dir + "/s1/answer.jsonl").count, b = Self.rows(dir + "/s2/answer.jsonl").count
        #expect(a + b == 6 && a > 0 && b > 0)
        #expect(await Self.run(["harvest", "merge", "--out", dir + "/merged", dir + "/s1", dir + "/s2"]) == 0)
        #expect(await Self.run(args(dir + "/merged") + ["--offline"]) == 0)
        #expect(standIn.requestCount == 6, "rendering the merged run sent requests")
        let ids = Self.rows(dir + "/merged/answer.jsonl").compactMap { $0["id"] as? String }
        #expect(ids == ["1", "2", "3", "4", "5", "6"])
    }

    @Test func budgetBelowTheEstimateRefusesToStart() async throws {
        let dir = try Self.temporaryDirectory()
        let standIn = try Self.standIn()
        defer { standIn.stop() }
        let (instructions, _, _) = try Self.inputs(dir)
        let noBudget = ["harvest", "--recipe", "answer", "--data", instructions, "--price-in", "1000", "--price-out", "1000"]
            + Self.common(standIn, out: dir + "/run")
        let args = noBudget + ["--budget", "0.01"]
        #expect(await Self.run(args) == 1)
        #expect(standIn.requestCount == 0)
        #expect(await Self.run(args + ["--dry-run"]) == 1)
        #expect(await Self.run(noBudget + ["--dry-run"]) == 0)
        #expect(standIn.requestCount == 0)
    }
}
