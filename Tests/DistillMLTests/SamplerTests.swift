import Foundation
import Testing
@testable import DistillML
import DistillTestSupport

@Suite struct SamplerTests {
    /// Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1.
    static let logits: [Float] = [0.5, 0.3, 0.15, 0.05].map { logf($0) }

    static func histogram(_ p: SamplingParameters, draws: Int = 20_000) -> [Double] {
        var s = Sampler(p)
        var counts = [Double](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { l in
            for _ in 0..<draws { counts[s.sample(l)] += 1 }
        }
        return counts.map { $0 / Double(draws) }
    }

    @Test func greedyIsArgmaxWithLowestIdOnTies() {
        [1, 3, 3, 2].map(Float.init).withUnsafeBufferPointer { l in
            var s = Sampler(.greedy)
            #expect(s.sample(l) == 1)
        }
        var k1 = Sampler(SamplingParameters(temperature: 5, topK: 1, seed: 3))
        #expect(Self.logits.withUnsafeBufferPointer { k1.sample($0) } == 0)
    }

    @Test func temperatureOneDrawsFromTheSoftmax() {
        let h = Self.histogram(SamplingParameters(temperature: 1, seed: 11))
        for (got, want) in zip(h, [0.5, 0.3, 0.15, 0.05]) { #expect(abs(got - want) < 0.015, "\(h)") }
        // Temperature 0.5 squares the odds: p ∝ p², i.e. 0.25, 0.09, 0.0225, 0.0025 normalised.
        let sharp = Self.histogram(SamplingParameters(temperature: 0.5, seed: 12))
        let z = 0.25 + 0.09 + 0.0225 + 0.0025
        for (got, want) in zip(sharp, [0.25, 0.09, 0.0225, 0.0025].map { $0 / z }) { #expect(abs(got - want) < 0.015, "\(sharp)") }
    }

    @Test func filtersKeepOnlyWhatTheyShould() {
        let topK = Self.histogram(SamplingParameters(temperature: 1, topK: 2, seed: 1))
        #expect(topK[2] == 0 && topK[3] == 0 && abs(topK[0] - 0.5 / 0.8) < 0.015)
        let topP = Self.histogram(SamplingParameters(temperature: 1, topP: 0.7, seed: 2))  // 0.5 + 0.3 reaches 0.7
        #expect(topP[2] == 0 && topP[3] == 0 && topP[1] > 0.3)
        let minP = Self.histogram(SamplingParameters(temperature: 1, minP: 0.2, seed: 3))  // keeps p ≥ 0.1
        #expect(minP[3] == 0 && minP[2] > 0.1)
    }

    @Test func theSeedDecidesTheDraws() {
        func draws(_ seed: UInt64) -> [Int] {
            var s = Sampler(SamplingParameters(temperature: 1, seed: seed))
            return Self.logits.withUnsafeBufferPointer { l in (0..<50).map { _ in s.sample(l) } }
        }
        #expect(draws(5) == draws(5))
        #expect(draws(5) != draws(6))
    }

    @Test func logprobsAreTheLogSoftmax() {
        let logits: [Float] = [2.0, -1.0, 0.5, 3.25, 0.0]
        let z = log(logits.map { exp(Double($0)) }.reduce(0, +))
        let (lp, top) = logits.withUnsafeBufferPointer { Sampler.logprobs($0, id: 2, top: 3) }
        #expect(abs(Double(lp) - (0.5 - z)) < 1e-5)
        #expect(top.map(\.id) == [3, 0, 2])
        for t in top { #expect(abs(Double(t.logprob) - (Double(logits[t.id]) - z)) < 1e-5) }
    }

    /// Stop strings cut the text, end tokens finish with .eos, and max tokens with .length (tiny model, greedy).
    @Test func generatorFinishReasons() throws {
        let path = ModelFixtures.temporaryPath("sampler-tiny.gguf")
        try TinyModel.writeGGUF(to: path)
        let lm = try LanguageModel(path: path)
        let prompt = lm.chatPrompt([(role: "user", content: "hello 👋")])
        var free: GenerationResult?
        try lm.generator(slots: 1, capacity: 128).generate([GenerationRequest(id: 0, prompt: prompt, maxTokens: 20, topLogprobs: 2)]) { free = $0 }
        let r = try #require(free)
        #expect(r.finishReason == .length || r.finishReason == .eos)
        #expect(r.tokenLogprobs.count == r.tokens.count && r.topLogprobs.allSatisfy { $0.count == 2 })
        #expect(r.tokenLogprobs.allSatisfy { $0 <= 0 })
        // Stop on a piece of the free-running text: the result is the text before it.
        try #require(r.text.count >= 4, "the tiny model stopped too early for this test: \(r.text.debugDescription)")
        let cutAt = r.text.index(r.text.startIndex, offsetBy: r.text.count / 2)
        let stop = String(r.text[cutAt...].prefix(2))
        var stopped: GenerationResult?
        try lm.generator(slots: 1, capacity: 128).generate([GenerationRequest(id: 0, prompt: prompt, maxTokens: 20, stop: [stop])]) { stopped = $0 }
        let s = try #require(stopped)
        #expect(s.finishReason == .stop)
        #expect(!s.text.contains(stop) && r.text.hasPrefix(s.text))
        // Making the first greedy token an end token ends the sequence at once.
        let first = try #require(r.tokens.first)
        var ended: GenerationResult?
        try Generator(model: lm.model, slots: 1, capacity: 128, endTokens: [first]) { lm.tokenizer.decode($0) }
            .generate([GenerationRequest(id: 0, prompt: prompt, maxTokens: 20)]) { ended = $0 }
        #expect(ended?.finishReason == .eos && ended?.tokens == [])
    }
}
