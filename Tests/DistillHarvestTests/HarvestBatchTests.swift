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
    }
}
