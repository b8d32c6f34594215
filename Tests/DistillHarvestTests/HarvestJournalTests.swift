import DistillData
import Foundation
import Testing
@testable import DistillClient
@testable import DistillHarvest

@Suite struct HarvestJournalTests {
    func entry(_ item: String, _ text: String) -> HarvestJournalEntry {
        let request = ChatRequest(model: "m", messages: [.user("问题 \(item) 🙂")])
        let key = HarvestKey(item: item, stage: "answer", sample: 0, request: request)
        return HarvestJournalEntry(key: key, response: RecordedResponse(
            id: "r-\(item)", model: "m", choices: [.init(index: 0, content: text, finishReason: "stop", logprobs: nil)],
            usage: ChatUsage(promptTokens: 3, completionTokens: 4)))
    }

    @Test func entriesSurviveReopening() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let first = try HarvestJournal(directory: dir)
        let e = entry("1", "答案：42 🎉")
        try first.record(e)
        let again = try HarvestJournal(directory: dir)
        #expect(again.loadedCount == 1)
        #expect(again.entry(e.key)?.response.text == "答案：42 🎉")
        #expect(again.entry(e.key)?.response.usage?.completionTokens == 4)
    }

    @Test func tornLastLineIsDroppedAndReported() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let journal = try HarvestJournal(directory: dir)
        let kept = entry("1", "kept")
        try journal.record(kept)
        // A crash in the middle of the second line's write(2): half a JSON object, no newline.
        let torn = try JSONLines.encoder.encode(entry("2", "torn"))
        let handle = try #require(FileHandle(forWritingAtPath: journal.journalPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: torn.prefix(torn.count / 2))
        try handle.close()
        let reopened = try HarvestJournal(directory: dir)
        #expect(reopened.repairedBytes == torn.count / 2)
        #expect(reopened.loadedCount == 1)
        #expect(reopened.entry(kept.key) != nil)
        #expect(reopened.entry(entry("2", "torn").key) == nil)
        // The next line starts clean after the repair.
        try reopened.record(entry("3", "after"))
        #expect(try HarvestJournal(directory: dir).loadedCount == 2)
    }

    @Test func damagedMiddleLineIsAnErrorNamingFileAndLine() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let line = String(decoding: try JSONLines.encoder.encode(entry("1", "ok")), as: UTF8.self)
        try HarvestFixtures.write([line, "{\"key\": 7}", line], to: dir + "/journal.jsonl")
        #expect {
            _ = try HarvestJournal(directory: dir)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("journal.jsonl:2:") && text.contains("damaged journal line")
        }
    }

    @Test func failureMadeGoodIsNoLongerOutstanding() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let journal = try HarvestJournal(directory: dir)
        let e = entry("1", "ok")
        let key = HarvestKey(item: e.item, stage: e.stage, sample: e.sample, promptHash: e.promptHash, paramsHash: e.paramsHash)
        #expect(key.id == e.key)
        try journal.recordFailure(HarvestFailure(key: key, reason: "HTTP 500"))
        #expect(journal.failure(e.key)?.reason == "HTTP 500")
        #expect(journal.outstandingFailures.count == 1)
        try journal.record(e)
        #expect(journal.failure(e.key) == nil)
        #expect(try HarvestJournal(directory: dir).outstandingFailures.isEmpty)
    }

    @Test func keysDependOnEveryPartOfTheRequest() {
        let base = ChatRequest(model: "m", messages: [.user("q")], temperature: 0.7, maxTokens: 10)
        let id = HarvestKey(item: "1", stage: "answer", sample: 0, request: base).id
        var other = base
        other.temperature = 0.8
        #expect(HarvestKey(item: "1", stage: "answer", sample: 0, request: other).id != id)
        other = base
        other.messages = [.user("q ")]
        #expect(HarvestKey(item: "1", stage: "answer", sample: 0, request: other).id != id)
        #expect(HarvestKey(item: "1", stage: "answer", sample: 1, request: base).id != id)
        #expect(HarvestKey(item: "2", stage: "answer", sample: 0, request: base).id != id)
        #expect(HarvestKey(item: "1", stage: "explain", sample: 0, request: base).id != id)
        #expect(HarvestKey(item: "1", stage: "answer", sample: 0, request: base).id == id)
        #expect(id.count == 32)
    }
}
