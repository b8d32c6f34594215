import DistillData
import Foundation
import Testing
@testable import DistillClient
@testable import DistillHarvest

/// Items read back from the file, rows streamed through `HarvestOutputWriter`, and the journal's index: the same
/// bytes, in the same order, as the in-memory path.
@Suite struct HarvestStreamingTests {
    /// Answers after a delay that varies with the item number in the prompt, so items finish out of order.
    struct UnevenTeacher: ChatCompleting {
        func complete(_ request: ChatRequest) async throws -> ChatResponse {
            let prompt = request.messages.last?.content ?? ""
            let n = Int(prompt.split(separator: "第").dropFirst().first?.prefix { $0.isNumber } ?? "") ?? 0
            try await Task.sleep(for: .milliseconds((n * 7) % 11))
            return ChatResponse(id: "uneven-\(n)", model: request.model,
                                choices: [ChatChoice(index: 0, message: .assistant("答 \(n) 🙂"), finishReason: "stop")],
                                usage: ChatUsage(promptTokens: 10, completionTokens: 3))
        }
    }

    static func input(_ dir: String, rows: Int) throws -> String {
        let path = dir + "/in.jsonl"
        try HarvestFixtures.write((1...rows).map { #"{"id": "q\#($0)", "instruction": "第\#($0)题：模型蒸馏是什么？🙂"}"# }, to: path)
        return path
    }

    @Test func fileItemsStreamedThroughTheWriterAreTheBytesOfTheInMemoryRun() async throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let rows = 150  // more than the window (64 at concurrency 2), so items are read as the run goes
        let path = try Self.input(dir, rows: rows)
        let streamed = try HarvestInput.instructionItems(path)
        #expect(streamed.count == rows)
        let prompts = try HarvestFixtures.prompts(AnswerRecipe.templateNames)
        var options = HarvestSession.Options()
        options.concurrency = 8
        let memoryRun = dir + "/memory", streamRun = dir + "/stream"
        for d in [memoryRun, streamRun] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let inMemory = try await AnswerRecipe(items: try HarvestInput.instructions(path), prompts: prompts,
                                              generation: HarvestFixtures.generation)
            .run(HarvestSession(client: UnevenTeacher(), journal: try HarvestJournal(directory: memoryRun), options: options))

        options.concurrency = 2
        let writer = HarvestOutputWriter(directory: streamRun)
        let session = HarvestSession(client: UnevenTeacher(), journal: try HarvestJournal(directory: streamRun),
                                     options: options, output: writer)
        let returned = try await AnswerRecipe(items: streamed, prompts: prompts, generation: HarvestFixtures.generation).run(session)
        #expect(returned.isEmpty, "rows went to the writer, not back to the caller")
        #expect(!FileManager.default.fileExists(atPath: streamRun + "/answer.jsonl"), "nothing replaces an output before the commit")
        #expect(try writer.commit() == ["answer.jsonl": rows])

        let written = try Data(contentsOf: URL(fileURLWithPath: streamRun + "/answer.jsonl"))
        let expected = (inMemory["answer.jsonl"] ?? []).reduce(into: Data()) { $0.append($1); $0.append(0x0A) }
        #expect(written == expected)
        let ids = HarvestFixtures.readLines(streamRun + "/answer.jsonl").compactMap { $0["id"] as? String }
        #expect(ids == (1...rows).map { "q\($0)" })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: streamRun).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func aDuplicateIDAtTheEndIsFoundBeforeAnyItemIsWalked() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let path = try Self.input(dir, rows: 30)
        try FileHandle(forWritingTo: URL(fileURLWithPath: path)).withHandle {
            $0.seekToEndOfFile()
            $0.write(Data(#"{"id": "q7", "instruction": "重复的编号"}"#.utf8 + [0x0A]))
        }
        #expect { _ = try HarvestInput.instructionItems(path) } throws: { error in
            "\(error)".contains("id 'q7' appears more than once")
        }
    }

    @Test func theJournalReadsRepliesBackFromItsFileAfterReopening() throws {
        let dir = try HarvestFixtures.temporaryDirectory()
        let keys = (1...40).map { HarvestKey(item: "q\($0)", stage: "answer", sample: 0, promptHash: "p\($0)", paramsHash: "x") }
        func response(_ n: Int, _ text: String) -> RecordedResponse {
            RecordedResponse(id: "r\(n)", model: "m", choices: [.init(index: 0, content: text, finishReason: "stop", logprobs: nil)],
                             usage: ChatUsage(promptTokens: n, completionTokens: 2))
        }
        do {
            let journal = try HarvestJournal(directory: dir)
            for (i, key) in keys.enumerated() { try journal.record(HarvestJournalEntry(key: key, response: response(i, "第一次 \(i)"))) }
            // A key recorded again: its last line wins, as the table did.
            try journal.record(HarvestJournalEntry(key: keys[3], response: response(3, "第二次 🙂")))
            #expect(journal.entry(keys[5].id)?.response.text == "第一次 5")
        }
        let reopened = try HarvestJournal(directory: dir)
        #expect(reopened.count == 40 && reopened.loadedCount == 40)
        #expect(reopened.entry(keys[3].id)?.response.text == "第二次 🙂")
        #expect(reopened.entry(keys[39].id)?.response == response(39, "第一次 39"))
        #expect(reopened.contains(keys[0].id) && !reopened.contains("not-a-key"))
        #expect(reopened.entry("not-a-key") == nil)
        var seen: [String: Int] = [:]
        var entries: [HarvestJournalEntry] = []
        try reopened.forEachEntry {
            seen[$0.item, default: 0] += 1
            entries.append($0)
        }
        #expect(seen.count == 40 && seen.values.allSatisfy { $0 == 1 })
        #expect(entries.first { $0.item == "q4" }?.response.text == "第二次 🙂")
    }
}

private extension FileHandle {
    func withHandle(_ body: (FileHandle) throws -> Void) throws {
        defer { try? close() }
        try body(self)
    }
}
