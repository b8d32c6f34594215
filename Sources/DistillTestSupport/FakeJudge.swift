import DistillClient
import DistillHarvest
import Foundation

/// An in-process judge for logic tests of the ladder (the transport itself is tested against the loopback stand-in):
/// answers each request with `handler`, and records every request it saw.
public final class FakeJudge: ChatCompleting, @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var seen: [ChatRequest] = []
    public let handler: @Sendable (ChatRequest, Int) async throws -> (String, String)

    /// `handler(request, sequence)` returns (reply text, finish reason); sequence is 1-based over all requests.
    public init(_ handler: @escaping @Sendable (ChatRequest, Int) async throws -> (String, String)) { self.handler = handler }

    public var requests: [ChatRequest] { lock.withLock { seen } }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let n = lock.withLock { seen.append(request); return seen.count }
        let (text, finish) = try await handler(request, n)
        return ChatResponse(id: "fake-\(n)", model: request.model,
                            choices: [ChatChoice(index: 0, message: .assistant(text), finishReason: finish)], usage: nil)
    }
}

/// A transport failure a fake judge throws (a stand-in for an HTTP error).
public struct FakeHTTPError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
