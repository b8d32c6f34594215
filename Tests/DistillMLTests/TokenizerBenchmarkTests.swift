import Foundation
import Testing
@testable import DistillML

/// Encode speed on the parity corpus (20 passes), to set beside HF `tokenizers` as measured by
/// `scripts/fixtures/make_tokenizer_fixture.py`. Run with `RUN_BENCHMARKS=1`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RUN_BENCHMARKS"] == "1"))
struct TokenizerBenchmarkTests {
    @Test func encodeSpeed() throws {
        let texts = try TokenizerFixtures.corpus.get().cases.map(\.text)
        let passes = 20
        // A fresh tokenizer, so the first pass pays for every BPE merge (cold word cache).
        let tok = try Tokenizer(tokenizerJSONAt: TokenizerFixtures.path("smollm2/tokenizer.json"))
        var tokens = 0
        let clock = ContinuousClock()
        var firstPass = Duration.zero
        let total = clock.measure {
            for pass in 0..<passes {
                let start = clock.now
                for t in texts { tokens += tok.encode(t).count }
                if pass == 0 { firstPass = clock.now - start }
            }
        }
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        let perPass = tokens / passes
        print("Swift encode: \(tokens) tokens in \(seconds(total)) s = \(Int(Double(tokens) / seconds(total))) tok/s; "
              + "cold first pass \(Int(Double(perPass) / seconds(firstPass))) tok/s")
        #expect(tokens > 0)
    }

    @Test func loadTime() throws {
        let clock = ContinuousClock()
        let json = try clock.measure { _ = try Tokenizer(tokenizerJSONAt: TokenizerFixtures.path("smollm2/tokenizer.json")) }
        print("load SmolLM2 tokenizer.json: \(json)")
        let model = TokenizerGGUFTests.modelPath
        guard FileManager.default.fileExists(atPath: model) else { return }
        let gguf = try clock.measure { _ = try Tokenizer(ggufAt: model) }
        print("load SmolLM2 tokenizer from GGUF (reader included): \(gguf)")
    }
}
