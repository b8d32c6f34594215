import DistillML
import DistillClient
import DistillHarvest
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `--dry-run` against what a real server would count: a stand-in that reports usage the way llama.cpp or
/// `distill serve` do for SmolLM2 (its chat template and BPE tokenizer, loaded from the cached GGUF). Skipped when
/// the model file is absent.
@Suite struct HarvestEstimateTests {
    static let gguf = "/root/.cache/distill/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static var sampleData: String { HarvestCommandTests.repositoryRoot.appendingPathComponent("datasets/instructions.jsonl").path }

    /// Replies of varied length (a deterministic function of the prompt), with real token counts in `usage`.
    static func realisticTeacher(_ tokenizer: Tokenizer) -> @Sendable (StandInRequest) async -> StandInReply {
        { r in
            let messages = (r.json?["messages"] as? [[String: Any]] ?? []).map {
                (role: $0["role"] as? String ?? "", content: $0["content"] as? String ?? "")
            }
            let prompt = tokenizer.encodeChat(messages).count
            let last = messages.last?.content ?? ""
            let reply = String(repeating: "This is a considered answer. 这是回答。", count: 1 + last.unicodeScalars.count % 7)
            return .chat([reply], promptTokens: prompt, completionTokens: tokenizer.encode(reply).count + 1)
        }
    }

    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Result { try work() }) }
        }
    }

    func plan(_ args: [String]) throws -> HarvestPlan {
        let parsed = try ParsedArguments(args, specs: HarvestCommand.spec.options)
        return try HarvestPlan(parsed, recipe: "answer", endpoint: Endpoint(baseURL: "http://127.0.0.1:9/v1", model: "stand-in"))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: gguf), "needs the cached SmolLM2 GGUF"))
    func dryRunComesWithinTenPercentOfTokensUsed() async throws {
        // Loading a tokenizer is seconds of synchronous work: keep it off the concurrency pool, which other suites'
        // timing tests share.
        let tokenizer = try await Self.offPool { try Tokenizer(ggufAt: Self.gguf) }
        let standIn = try TeacherStandIn(handler: Self.realisticTeacher(tokenizer))
        defer { standIn.stop() }
        let dir = try HarvestCommandTests.temporaryDirectory()
        let args = ["harvest", "--recipe", "answer", "--data", Self.sampleData, "--max-tokens", "64"]
            + HarvestCommandTests.common(standIn, out: dir + "/run")
        let plan = try plan(Array(args.dropFirst()))
        let scratch = try HarvestJournal(directory: try HarvestCommandTests.temporaryDirectory("scratch"))

        var heuristic = HarvestSession.Options()
        heuristic.estimator = .heuristic
        let byHeuristic = try await HarvestRunner.estimate(plan.recipe, journal: scratch, options: heuristic)
        var exact = HarvestSession.Options()
        exact.estimator = try await Self.offPool {
            try HarvestCommand.estimator(try ParsedArguments(["--tokenizer", Self.gguf], specs: HarvestCommand.spec.options))
        }
        let byTokenizer = try await HarvestRunner.estimate(plan.recipe, journal: scratch, options: exact)

        // Harvest half (one shard), estimate the rest from the journal's replies, then harvest the rest.
        #expect(await DistillCLI.main(args + ["--shard", "1/2"]) == 0)
        let half = try HarvestJournal(directory: dir + "/run")
        let remaining = try await HarvestRunner.estimate(plan.recipe, journal: half, options: heuristic)
        func entries(_ journal: HarvestJournal) throws -> [HarvestJournalEntry] {
            var all: [HarvestJournalEntry] = []
            try journal.forEachEntry { all.append($0) }
            return all
        }
        let before = Set(try entries(half).map(\.key))
        #expect(await DistillCLI.main(args) == 0)
        let all = try entries(try HarvestJournal(directory: dir + "/run"))
        #expect(all.count == 100)
        let actualIn = all.reduce(0) { $0 + ($1.response.usage?.promptTokens ?? 0) }
        let rest = all.filter { !before.contains($0.key) }
        let restTotal = rest.reduce(0) { $0 + ($1.response.usage?.totalTokens ?? 0) }

        func within10(_ estimate: Int, _ actual: Int) -> Bool { abs(Double(estimate - actual)) <= 0.10 * Double(actual) }
        #expect(byTokenizer.tokensIn == actualIn, "the tokenizer and chat template count prompts exactly")
        #expect(within10(byHeuristic.tokensIn, actualIn), "heuristic \(byHeuristic.tokensIn) vs actual \(actualIn) prompt tokens")
        #expect(remaining.requests == rest.count)
        #expect(remaining.calibratedStages["answer"] != nil)
        #expect(within10(remaining.tokensIn + remaining.tokensOut, restTotal),
                "estimate \(remaining.tokensIn + remaining.tokensOut) vs \(restTotal) tokens used by the second half")
    }
}
