import DistillTestSupport
import Foundation
import Synchronization
import Testing
@testable import DistillCLI
@testable import DistillClient
@testable import DistillHarvest

/// Money and silent failures in `distill harvest` (issue 13): the budget caps the run's total across invocations and
/// counts requests in flight; an unpriced model is refused under --budget; generate-data sends no more than it needs;
/// failed items exit 1; a bad template is refused before any request; secrets in URLs never reach files.
@Suite struct HarvestMoneyTests {
    typealias H = HarvestCommandTests

    /// Runs argv in process and returns the exit code and the message of the error the command threw (if any).
    static func runCapturing(_ argv: [String]) async -> (code: Int32, message: String) {
        do {
            guard case .command(let command, _) = try DistillCLI.resolve(argv) else { return (0, "") }
            try await command.run()
            return (0, "")
        } catch let e as UsageError {
            return (64, e.message)
        } catch {
            return (1, String(describing: error))
        }
    }

    static func items(_ dir: String, _ n: Int, input: String = "") throws -> String {
        let path = dir + "/items.jsonl"
        try H.write((1...n).map { #"{"id": "\#($0)", "instruction": "问题 \#($0) 🙂", "input": "\#(input)"}"# }, path)
        return path
    }

    /// Each reply costs exactly $0.10 at --price-out 1000: 100 completion tokens, prompt tokens free.
    @Test func budgetCapsTheRunsTotalAcrossInvocationsAndCountsRequestsInFlight() async throws {
        let dir = try H.temporaryDirectory()
        let standIn = try TeacherStandIn { _ in .delayed(.milliseconds(30), .chat(["答"], promptTokens: 5, completionTokens: 100)) }
        defer { standIn.stop() }
        let args = ["harvest", "--recipe", "answer", "--data", try Self.items(dir, 20), "--price-in", "0", "--price-out", "1000",
                    "--max-tokens", "100", "--expected-output-tokens", "10", "--budget", "0.35"]
            + H.common(standIn, out: dir + "/run") + ["--concurrency", "8"]
        let first = await Self.runCapturing(args)
        #expect(first.code == 1)
        // Three replies fit in $0.35; a fourth in flight could take the run past it, so it is never sent.
        #expect(standIn.requestCount == 3, "sent \(standIn.requestCount) requests under a $0.35 budget at $0.10 each")
        #expect(first.message.contains("$0.3000 of --budget $0.3500 in all, $0.0500 left"), "\(first.message)")
        // The same command again: the run has $0.05 left, less than one request, so nothing is sent.
        let second = await Self.runCapturing(args)
        #expect(second.code == 1)
        #expect(standIn.requestCount == 3, "a second invocation spent the budget again")
        #expect(second.message.contains("left"), "\(second.message)")
        // A larger total lets it continue from where it stopped, still within the total.
        #expect(await H.run(args.map { $0 == "0.35" ? "0.55" : $0 }) == 1)
        #expect(standIn.requestCount == 5)
    }

    @Test func unpricedModelUnderBudgetIsRefusedUnlessPriced() async throws {
        let dir = try H.temporaryDirectory()
        let standIn = try H.standIn()
        defer { standIn.stop() }
        let base = ["harvest", "--recipe", "answer", "--data", try Self.items(dir, 2)] + H.common(standIn, out: dir + "/run")
        let refused = await Self.runCapturing(base + ["--budget", "1"])
        #expect(refused.code == 64 && refused.message.contains("--price-in"), "\(refused.message)")
        #expect(standIn.requestCount == 0)
        #expect(await H.run(base + ["--budget", "1", "--price-in", "0", "--price-out", "0"]) == 0)
        #expect(standIn.requestCount == 2)
    }

    @Test func presetsUseCurrentPricedModelsAndRegionalEndpoints() throws {
        for name in Endpoint.presetNames where !["vllm", "llamacpp", "ollama"].contains(name) {
            let e = try #require(Endpoint.preset(named: name, model: nil))
            #expect(TeacherPrice.lookup(e.model) != nil, "preset \(name)'s default model \(e.model) has no price")
        }
        #expect(Endpoint.preset(named: "deepseek", model: nil)?.model != "deepseek-chat")
        #expect(Endpoint.preset(named: "dashscope-intl", model: nil)?.baseURL.contains("dashscope-intl.aliyuncs.com") == true)
        #expect(Endpoint.preset(named: "zai", model: nil)?.baseURL.contains("api.z.ai") == true)
        #expect(!TeacherPrice.tableDate.isEmpty)
    }

    /// 12 samples, 5 per request: 3 requests, however high the concurrency.
    @Test func generateDataSendsNoMoreThanItNeeds() async throws {
        let dir = try H.temporaryDirectory()
        let standIn = try TeacherStandIn { r in
            let rows = (0..<5).map { #"{"input": "句子 \#(r.sequence).\#($0)", "output": "positive"}"# }
            return .chat("[" + rows.joined(separator: ", ") + "]")
        }
        defer { standIn.stop() }
        let args = ["harvest", "--recipe", "generate-data", "--task", "情感分类", "--num-samples", "12", "--per-request", "5"]
            + H.common(standIn, out: dir + "/run") + ["--concurrency", "16"]
        #expect(await H.run(args) == 0)
        #expect(standIn.requestCount == 3)
        #expect(H.rows(dir + "/run/generate-data.jsonl").count == 12)
    }

    @Test func failedItemsExit1AndRetryFailedRewritesFailures() async throws {
        let dir = try H.temporaryDirectory()
        let broken = Mutex(true)
        let standIn = try TeacherStandIn { r in
            broken.withLock { $0 } && (r.lastMessage ?? "").contains("问题 2")
                ? .error(status: 400, type: "invalid_request_error", message: "bad request") : .chat("好")
        }
        defer { standIn.stop() }
        let args = ["harvest", "--recipe", "answer", "--data", try Self.items(dir, 3)] + H.common(standIn, out: dir + "/run")
        #expect(await H.run(args) == 1)
        #expect(H.rows(dir + "/run/failures.jsonl").count == 1)
        #expect(H.rows(dir + "/run/answer.jsonl").count == 2)
        broken.withLock { $0 = false }
        #expect(await H.run(args + ["--retry-failed"]) == 0)
        #expect(H.rows(dir + "/run/failures.jsonl").isEmpty, "failures.jsonl still lists a request that is now answered")
        #expect(H.rows(dir + "/run/answer.jsonl").count == 3)
    }

    @Test func templateWithUnknownPlaceholderIsRefusedBeforeAnyRequest() async throws {
        let dir = try H.temporaryDirectory()
        let prompts = dir + "/prompts"
        try FileManager.default.copyItem(atPath: H.promptsDirectory, toPath: prompts)
        try Data("{instrution}\n\n{input}\n".utf8).write(to: URL(fileURLWithPath: prompts + "/answer.txt"))
        let standIn = try H.standIn()
        defer { standIn.stop() }
        let args = ["harvest", "--recipe", "answer", "--data", try Self.items(dir, 3)] + H.common(standIn, out: dir + "/run")
            + ["--prompts", prompts]
        let r = await Self.runCapturing(args)
        #expect(r.code == 1 && r.message.contains("instrution"), "\(r.message)")
        #expect(standIn.requestCount == 0)
    }

    @Test func truncatedRepliesAreFlaggedAndEmptyInputAddsNoBlankLines() async throws {
        let dir = try H.temporaryDirectory()
        let standIn = try TeacherStandIn { r in
            (r.lastMessage ?? "").contains("问题 1") ? .chat(["半句"], finishReason: "length") : .chat("整句")
        }
        defer { standIn.stop() }
        let args = ["harvest", "--recipe", "answer", "--data", try Self.items(dir, 2)] + H.common(standIn, out: dir + "/run")
        #expect(await H.run(args) == 0)
        let rows = H.rows(dir + "/run/answer.jsonl")
        #expect(rows.filter { $0["truncated"] as? Bool == true }.compactMap { $0["id"] as? String } == ["1"])
        #expect(rows.filter { $0["truncated"] == nil }.count == 1)
        let prompts = standIn.requests.compactMap(\.lastMessage).sorted()
        #expect(prompts == ["问题 1 🙂", "问题 2 🙂"], "\(prompts)")
    }

    @Test func passwordInTheTeacherURLNeverReachesTheRunDirectory() async throws {
        let dir = try H.temporaryDirectory()
        let standIn = try H.standIn()
        defer { standIn.stop() }
        let url = standIn.baseURL.replacingOccurrences(of: "http://", with: "http://alice:s3cr3t-pw@")
        let run = dir + "/run"
        let args = ["harvest", "--recipe", "answer", "--data", try Self.items(dir, 2), "--teacher", url, "--model", "m",
                    "--out", run, "--prompts", H.promptsDirectory]
        #expect(await H.run(args) == 0)
        for name in try FileManager.default.contentsOfDirectory(atPath: run) {
            let text = try String(contentsOfFile: run + "/" + name, encoding: .utf8)
            #expect(!text.contains("s3cr3t"), "\(name) holds the password")
            var st = stat()
            #expect(stat(run + "/" + name, &st) == 0 && st.st_mode & 0o077 == 0, "\(name) is readable by others")
        }
        #expect(try String(contentsOfFile: run + "/manifest.json", encoding: .utf8).contains("alice:***@"))
        var st = stat()
        #expect(stat(run, &st) == 0 && st.st_mode & 0o777 == 0o700)
        // The same command again resumes (the masked URL is the same run).
        #expect(await H.run(args) == 0)
        #expect(standIn.requestCount == 2)
    }

    @Test func mergeMissingAShardIsRefused() async throws {
        let dir = try H.temporaryDirectory()
        let standIn = try H.standIn()
        defer { standIn.stop() }
        let data = try Self.items(dir, 9)
        func args(_ out: String, _ shard: String) -> [String] {
            ["harvest", "--recipe", "answer", "--data", data, "--shard", shard] + H.common(standIn, out: out)
        }
        for i in 1...3 { #expect(await H.run(args(dir + "/s\(i)", "\(i)/3")) == 0) }
        let refused = await Self.runCapturing(["harvest", "merge", "--out", dir + "/m1", dir + "/s1", dir + "/s3"])
        #expect(refused.code == 1 && refused.message.contains("2/3"), "\(refused.message)")
        #expect(await H.run(["harvest", "merge", "--out", dir + "/m2", dir + "/s1", dir + "/s2", dir + "/s3"]) == 0)
        #expect(await H.run(["harvest", "merge", "--out", dir + "/m3", "--partial", dir + "/s1", dir + "/s3"]) == 0)
    }
}
