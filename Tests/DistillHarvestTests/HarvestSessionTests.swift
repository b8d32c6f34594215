import DistillData
import Foundation
import Testing
@testable import DistillClient
@testable import DistillHarvest

@Suite struct HarvestSessionTests {
    func items(_ n: Int) -> [InstructionItem] {
        (1...n).map { InstructionItem(id: String($0), instruction: "问题 \($0): what is \($0) + \($0)? 🙂") }
    }

    func answerRecipe(_ n: Int, samples: Int = 1) throws -> AnswerRecipe {
        AnswerRecipe(items: items(n), prompts: try HarvestFixtures.prompts(AnswerRecipe.templateNames),
                     generation: HarvestFixtures.generation, samples: samples)
    }

    @Test func resumingSendsNothingAlreadyRecordedAndReproducesOutputs() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let teacher = FakeTeacher { "answer to: " + $0.prompt.prefix(12) }
        let recipe = try answerRecipe(10, samples: 2)
        let first = HarvestSession(client: teacher, journal: try HarvestJournal(directory: dir))
        let out1 = try await recipe.run(first)
        #expect(teacher.requests.count == 20)
        #expect(out1["answer.jsonl"]?.count == 20)
        let second = HarvestSession(client: teacher, journal: try HarvestJournal(directory: dir))
        let out2 = try await recipe.run(second)
        #expect(teacher.requests.count == 20, "a recorded request was sent again")
        #expect(out2["answer.jsonl"] == out1["answer.jsonl"])
        #expect(second.stats.snapshot().resumed == 20)
    }

    @Test func failedRequestIsRecordedAndOnlyRetriedWhenAsked() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let broken = FakeTeacher { r in
            if r.prompt.contains("问题 3:") { throw FakeTeacher.Failure(description: "HTTP 500 after 8 attempts") }
            return "ok"
        }
        let recipe = try answerRecipe(5)
        let s1 = HarvestSession(client: broken, journal: try HarvestJournal(directory: dir))
        let out = try await recipe.run(s1)
        #expect(out["answer.jsonl"]?.count == 4)
        #expect(s1.itemFailures.map(\.id) == ["3"])
        let failures = HarvestFixtures.readLines(dir + "/failures.jsonl")
        #expect(failures.count == 1)
        #expect(failures.first?["reason"] as? String == "HTTP 500 after 8 attempts")

        let healthy = FakeTeacher { _ in "ok now" }
        let s2 = HarvestSession(client: healthy, journal: try HarvestJournal(directory: dir))
        _ = try await recipe.run(s2)
        #expect(healthy.requests.isEmpty, "a failed request was resent without --retry-failed")
        #expect(s2.itemFailures.first?.reason.contains("--retry-failed") == true)

        var retry = HarvestSession.Options()
        retry.retryFailed = true
        let s3 = HarvestSession(client: healthy, journal: try HarvestJournal(directory: dir), options: retry)
        let out3 = try await recipe.run(s3)
        #expect(healthy.requests.count == 1)
        #expect(out3["answer.jsonl"]?.count == 5)
        #expect(try HarvestJournal(directory: dir).outstandingFailures.isEmpty)
    }

    @Test func budgetStopsCleanlyAndKeepsWhatWasBought() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let teacher = FakeTeacher { _ in String(repeating: "x", count: 400) }  // ~100 tokens each
        var options = HarvestSession.Options()
        options.concurrency = 1
        options.price = TeacherPrice(inputPerMillion: 0, outputPerMillion: 1000)  // $0.1 per 100 output tokens
        options.budget = 0.5
        options.expectedOutputTokens = 101
        let session = HarvestSession(client: teacher, journal: try HarvestJournal(directory: dir), options: options)
        let out = try await answerRecipe(20).run(session)
        #expect(session.stopped?.contains("budget reached") == true)
        #expect(session.stats.spent <= 0.5)
        #expect(teacher.requests.count == 4, "each request costs ~$0.101; the fifth would pass $0.5")
        #expect(out["answer.jsonl"]?.count == 4)
        #expect(try HarvestJournal(directory: dir).loadedCount == 4)
    }

    @Test func dryRunSendsNothingAndCountsEveryRequest() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let teacher = FakeTeacher { _ in "x" }
        var options = HarvestSession.Options()
        options.dryRun = true
        options.expectedOutputTokens = 50
        options.price = TeacherPrice(inputPerMillion: 1, outputPerMillion: 2)
        let session = HarvestSession(client: teacher, journal: try HarvestJournal(directory: dir), options: options)
        _ = try await answerRecipe(6, samples: 3).run(session)
        let e = session.dryRunEstimate
        #expect(teacher.requests.isEmpty)
        #expect(e.requests == 18)
        #expect(e.tokensOut == 18 * 50)
        #expect(abs(e.cost - (Double(e.tokensIn) * 1 + Double(e.tokensOut) * 2) / 1e6) < 1e-12)
        #expect(try HarvestJournal(directory: dir).loadedCount == 0)
    }

    @Test func runStoppingErrorStopsWithoutRecordingAFailure() async throws {
        struct QuotaGone: Error {}
        let dir = try HarvestFixtures.temporaryDirectory()
        let teacher = FakeTeacher { _ in throw QuotaGone() }
        var options = HarvestSession.Options()
        options.concurrency = 2
        options.stopsRun = { $0 is QuotaGone ? "insufficient_quota: add credit, then rerun to resume" : nil }
        let session = HarvestSession(client: teacher, journal: try HarvestJournal(directory: dir), options: options)
        _ = try await answerRecipe(50).run(session)
        #expect(session.stopped?.contains("insufficient_quota") == true)
        #expect(teacher.requests.count <= 2)
        #expect(try HarvestJournal(directory: dir).outstandingFailures.isEmpty, "a stop must not mark requests failed for good")
    }

    @Test func manyFailuresInARowStopTheRun() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let teacher = FakeTeacher { _ in throw FakeTeacher.Failure(description: "HTTP 401 invalid key") }
        var options = HarvestSession.Options()
        options.concurrency = 1
        options.maxConsecutiveFailures = 5
        let session = HarvestSession(client: teacher, journal: try HarvestJournal(directory: dir), options: options)
        _ = try await answerRecipe(40).run(session)
        #expect(teacher.requests.count == 5)
        #expect(session.stopped?.contains("5 requests in a row") == true)
    }

    @Test func shardsPartitionTheItems() throws {
        let ids = (1...1000).map { "item-\($0)" }
        var seen = [Int](repeating: 0, count: ids.count)
        for i in 1...4 {
            let shard = try #require(HarvestShard(parsing: "\(i)/4"))
            for (n, id) in ids.enumerated() where shard.contains(id) { seen[n] += 1 }
        }
        #expect(seen.allSatisfy { $0 == 1 })
        let sizes = (1...4).map { i in ids.filter { HarvestShard(index: i, count: 4).contains($0) }.count }
        #expect(sizes.allSatisfy { $0 > 200 && $0 < 300 })
        #expect(HarvestShard(parsing: "0/4") == nil)
        #expect(HarvestShard(parsing: "5/4") == nil)
    }
}
