import DistillTestSupport
import Foundation
import Synchronization
import Testing

/// A provider that meters requests per window and answers 429 with only `Retry-After: 1` (no x-ratelimit headers):
/// the limiter learns a pace from the 429s and spreads the retries, no item is lost to an attempt count used up in
/// seconds, and the teacher sees few 429s after the first burst.
@Suite struct HarvestRateLimitTests {
    final class Window: Sendable {
        let admitted = Mutex<[ContinuousClock.Instant]>([])
        let rejected = Mutex(0)
    }

    @Test(.timeLimit(.minutes(1))) func retryAfterOnAWindowedLimitLosesNoItems() async throws {
        let dir = try HarvestCommandTests.temporaryDirectory()
        let w = Window()
        let limit = 3, window = Duration.seconds(1)
        let standIn = try TeacherStandIn { _ in
            let now = ContinuousClock.now
            let ok = w.admitted.withLock { a -> Bool in
                a.removeAll { now - $0 >= window }
                guard a.count < limit else { return false }
                a.append(now)
                return true
            }
            if ok { return .chat("好 🙂") }
            w.rejected.withLock { $0 += 1 }
            return .error(status: 429, type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached",
                          headers: [("Retry-After", "1")])
        }
        defer { standIn.stop() }
        let data = dir + "/items.jsonl"
        try HarvestCommandTests.write((1...9).map { #"{"id": "\#($0)", "instruction": "问题 \#($0)"}"# }, data)
        let args = ["harvest", "--recipe", "answer", "--data", data, "--out", dir + "/run", "--teacher", standIn.baseURL,
                    "--model", "m", "--prompts", HarvestCommandTests.promptsDirectory, "--concurrency", "8",
                    "--attempts", "2", "--retry-base", "0.05"]
        #expect(await HarvestCommandTests.run(args) == 0)
        #expect(HarvestCommandTests.rows(dir + "/run/answer.jsonl").count == 9)
        // The first burst meets the limit; after that the learnt pace keeps retries from all arriving together.
        let rejected = w.rejected.withLock { $0 }
        #expect(rejected <= 10, "\(rejected) 429s: the retries were not spread")
    }
}
