import DistillClient
import Foundation

extension HarvestRounds {
    /// Rounds that each ask for `perRequest` samples, until `kept()` reaches `target` or `maxRounds` were sent
    /// (generate-data, self-instruct). Round r sends `prompt(r)` under `stage`, with `responseFormat` when the
    /// generation asks for structured output; `consume` sees each reply that came back, in round order. Returns the
    /// number of rounds consumed.
    static func collect(_ session: HarvestSession, stage: String, generation: HarvestGeneration,
                        responseFormat: ResponseFormat, target: Int, perRequest: Int, maxRounds: Int, kept: () -> Int,
                        prompt: @escaping @Sendable (Int) throws -> String,
                        consume: (Int, RecordedResponse) throws -> Void) async throws -> Int {
        let format = generation.structured ? responseFormat : nil
        return try await run(session, maxRounds: maxRounds, needed: {
            (target - kept() + perRequest - 1) / perRequest
        }, request: { r in
            (stage, generation.request(try prompt(r), sample: r, responseFormat: format))
        }, consume: { r, response in
            if let response { try consume(r, response) }
            return kept() < target
        })
    }
}
