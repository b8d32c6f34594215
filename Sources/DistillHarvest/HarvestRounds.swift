import DistillClient
import Foundation

/// Open-ended generation in rounds (self-instruct, generate-data): round r is one request (item `round-r`), sent
/// `width` at a time, and consumed strictly in round order until the recipe has enough. Consuming in order makes
/// the kept set the same whatever the concurrency, and on resume every round replays from the journal.
enum HarvestRounds {
    /// Calls `consume` with each round's response in order (nil when that round's request failed for good) until it
    /// returns false or `maxRounds` rounds were consumed. Returns the number of rounds consumed. `needed` says how
    /// many rounds would still be needed if every reply were fully usable: no more than that are sent at once, so the
    /// run never pays for replies it would throw away (12 samples, 5 per request, 10 kept → 1 more request, not 16).
    static func run(_ session: HarvestSession, maxRounds: Int, needed: () -> Int,
                    request: @escaping @Sendable (Int) throws -> (stage: String, request: ChatRequest),
                    consume: (Int, RecordedResponse?) throws -> Bool) async throws -> Int {
        let concurrency = max(1, session.options.concurrency)
        var round = 0
        while round < maxRounds {
            let width = min(concurrency, max(1, needed()))
            let batch = round..<min(round + width, maxRounds)
            var responses: [Int: RecordedResponse] = [:]
            try await withThrowingTaskGroup(of: (Int, RecordedResponse?).self) { group in
                for r in batch {
                    group.addTask {
                        let (stage, req) = try request(r)
                        do {
                            return (r, try await session.complete(item: "round-\(r)", stage: stage, sample: r, req))
                        } catch is HarvestRequestFailed {
                            return (r, nil)
                        }
                    }
                }
                for try await (r, response) in group { if let response { responses[r] = response } }
            }
            for r in batch {
                round = r + 1
                if try !consume(r, responses[r]) { return round }
            }
        }
        return round
    }

    /// Strips a Markdown code fence (```json … ```) around a reply.
    static func unfenced(_ text: String) -> String {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("```") {
            if let nl = t.firstIndex(of: "\n") { t = String(t[t.index(after: nl)...]) }
            if let end = t.range(of: "```", options: .backwards) { t = String(t[..<end.lowerBound]) }
        }
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
