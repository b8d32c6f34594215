import DistillData
import DistillHTTP
import DistillTestSupport
import Foundation
import Synchronization
import Testing
@testable import DistillClient
@testable import DistillHarvest

/// `--batch` against the loopback stand-in playing OpenAI's Files and Batches endpoints.
@Suite struct HarvestBatchTests {
    func items() -> [QuestionItem] {
        (1...4).map { QuestionItem(id: "q\($0)", question: "哪个是水果？\($0)", gold: "B",
                                   choices: [.init(label: "A", text: "石头"), .init(label: "B", text: "苹果")]) }
    }

    @Test func multiStageRecipeRunsThroughBatchesAndResumesPollingAfterCancellation() async throws {
        let provider = BatchAPIStandIn()
        let standIn = try TeacherStandIn { provider.handle($0) }
        defer { standIn.stop() }
        let dir = try HarvestFixtures.temporaryDirectory()
        let manifest = HarvestManifest(recipe: "critique-revise", inputs: [], prompts: [:], baseURL: standIn.baseURL,
                                       model: "teacher", parameters: [:])
        let run = try HarvestRunDirectory.open(dir + "/run", manifest: manifest)
        let recipe = CritiqueReviseRecipe(items: items(), prompts: try HarvestFixtures.prompts(CritiqueReviseRecipe.templateNames),
                                          generation: HarvestFixtures.generation)
        let endpoint = Endpoint(baseURL: standIn.baseURL, model: "teacher")
        func runner() throws -> HarvestBatchRunner {
            try HarvestBatchRunner(endpoint: endpoint, http: try HTTPClient(), directory: run, pollInterval: .milliseconds(20))
        }

        // First harvester: submits batch-1, then is cancelled (as if stopped) while the batch is still in progress.
        provider.hold.store(true, ordering: .relaxed)
        let first = Task { try await runner().run(recipe, options: HarvestSession.Options()) }
        try await eventually("two batch status polls") { provider.state.withLock({ $0.retrieved.count }) >= 2 }
        first.cancel()
        _ = try? await first.value
        #expect(provider.state.withLock { $0.created } == ["batch-1"])
        let saved = try String(contentsOfFile: dir + "/run/batches.json", encoding: .utf8)
        #expect(saved.contains("batch-1"))

        // The second harvester polls batch-1 again instead of submitting its requests anew.
        provider.hold.store(false, ordering: .relaxed)
        let rows = try await runner().run(recipe, options: HarvestSession.Options())
        #expect(rows["critique-revise.jsonl"] == 4)
        let out = HarvestFixtures.readLines(dir + "/run/critique-revise.jsonl")
        #expect(out.allSatisfy { $0["revised"] as? String == "revised 🍎" && $0["critique"] as? String == "critique 🍎" })
        let s = provider.state.withLock { $0 }
        #expect(s.retrieved.filter { $0 == "batch-1" }.count >= 3, "batch-1 was not polled after the restart")
        // batch-1 (4 explain requests) expired with 2 answered: the other 2 were resubmitted, and nothing else was.
        #expect(s.submittedIDs.first?.count == 4)
        let all = s.submittedIDs.flatMap { $0 }
        let repeated = Dictionary(grouping: all, by: { $0 }).filter { $0.value.count > 1 }.keys
        #expect(repeated.count == 2)
        #expect(Set(all).count == 12, "4 items × 3 stages, each key answered once")
        #expect(try HarvestJournal(directory: dir + "/run").count == 12)
        // Each uploaded file lists its requests in key-id order, read back from the pass's spool, which the pass
        // that collected nothing removed.
        #expect(s.submittedIDs.allSatisfy { $0 == $0.sorted() })
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/batch-pending.jsonl"))
    }

    /// The spool keeps each key once and gives the requests back in key-id order, each as its key line and its
    /// upload line, whatever order they were added in.
    @Test func spoolKeepsEachKeyOnceAndReadsBackInKeyOrder() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let spool = try BatchSpool(path: dir + "/batch-pending.jsonl")
        let keys = (1...5).map { HarvestKey(item: "q\($0)", stage: "answer", sample: 0, promptHash: "p\($0)", paramsHash: "x") }
        func request(_ i: Int) -> ChatRequest {
            ChatRequest(model: "teacher", messages: [.user("问题 \(i) 🙂")])
        }
        for i in [3, 1, 4, 1, 5, 2, 3] { spool.add(keys[i - 1], request(i)) }
        try spool.check()
        #expect(spool.count == 5)
        var seen: [(key: String, customID: String, text: String)] = []
        try await spool.forEach { keyLine, line in
            let key = try JSONDecoder().decode(HarvestBatchRunner.BatchKey.self, from: keyLine)
            let upload = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
            let body = try #require(upload["body"] as? [String: Any])
            let messages = try #require(body["messages"] as? [[String: Any]])
            seen.append((key.key, try #require(upload["custom_id"] as? String), try #require(messages.first?["content"] as? String)))
        }
        #expect(seen.map(\.key) == keys.map(\.id).sorted())
        #expect(seen.allSatisfy { $0.key == $0.customID })
        let byID = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1.id, "问题 \($0 + 1) 🙂") })
        #expect(seen.allSatisfy { byID[$0.key] == $0.text })
        spool.remove()
        #expect(!FileManager.default.fileExists(atPath: dir + "/batch-pending.jsonl"))
    }
}
