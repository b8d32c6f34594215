import DistillData
import Foundation
@testable import DistillClient
@testable import DistillHarvest

/// An in-process teacher for harvest logic tests (the transport is tested over loopback elsewhere): answers with a
/// closure of the last user message and keeps a log of every request it was sent.
final class FakeTeacher: ChatCompleting, @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var log: [ChatRequest] = []
    private let reply: @Sendable (ChatRequest) throws -> String

    init(reply: @escaping @Sendable (ChatRequest) throws -> String) {
        self.reply = reply
    }

    var requests: [ChatRequest] {
        lock.lock(); defer { lock.unlock() }
        return log
    }

    func complete(_ request: ChatRequest) async throws -> ChatResponse {
        lock.withLock { log.append(request) }
        let text = try reply(request)
        let prompt = request.messages.reduce(0) { $0 + $1.content.count }
        return ChatResponse(id: "fake-\(requests.count)", model: request.model,
                            choices: [ChatChoice(index: 0, message: .assistant(text), finishReason: "stop")],
                            usage: ChatUsage(promptTokens: prompt / 4 + 1, completionTokens: text.count / 4 + 1))
    }
}

extension ChatRequest {
    /// The last user message.
    var prompt: String { messages.last?.content ?? "" }
}

enum HarvestFixtures {
    /// A fresh empty directory under the system temp folder.
    static func temporaryDirectory(_ name: String = #function) throws -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "distill-harvest-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The repository's `prompts/` folder.
    static var promptsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("prompts").path
    }

    static var fixturesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/harvest").path
    }

    static func prompts(_ names: [String]) throws -> HarvestPrompts {
        try HarvestPrompts.load(names + ["system"], from: PromptLibrary(directory: promptsDirectory))
    }

    static func write(_ lines: [String], to path: String) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    static func readLines(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    static let generation = HarvestGeneration(model: "teacher-test", temperature: 0.7, maxTokens: 64)
}
