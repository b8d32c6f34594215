import Foundation

extension Generator {
    /// Runs every request to completion, calling `onResult` as each finishes (not in request order) and
    /// `onStep(sequencesThisStep)` after every forward pass (for progress). A request that cannot run at all (a
    /// prompt that does not fit) throws after the others finished, naming it.
    public func generate(_ requests: [GenerationRequest], onStep: (Int) -> Void = { _ in },
                         onResult: (GenerationResult) throws -> Void) throws {
        for r in requests { submit(r) }
        var failures: [String] = []
        while hasWork {
            let events = try step()
            if lastPassRows > 0 { onStep(lastPassRows) }
            for event in events {
                switch event {
                case .token: break
                case .finished(let result): try onResult(result)
                case .failed(let id, let message): failures.append("request \(id): \(message)")
                }
            }
        }
        if !failures.isEmpty {
            throw DistillMLError(file: "<generate>", failures.joined(separator: "; "))
        }
    }
}
