import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// The step-wise engine the server stands on: requests join between steps, leave when cancelled, fail alone, reuse
/// the prefix cache across calls, stream whole characters, and obey a logits processor (tiny model, greedy, int8
/// or weights path: a row's value does not depend on its batch there, so results compare exactly).
@Suite struct StepwiseGeneratorTests {
    static func model() throws -> LanguageModel {
        let path = ModelFixtures.temporaryPath("stepwise-tiny.gguf")
        try TinyModel.writeGGUF(to: path)
        return try LanguageModel(path: path)
    }

    static func prompt(_ lm: LanguageModel, _ text: String) -> [Int] {
        lm.chatPrompt([(role: "system", content: "你是一个乐于助人的助手。"), (role: "user", content: text)])
    }

    /// Steps until `id` finishes (bounded), collecting every event.
    static func run(_ gen: Generator, until id: Int, maxSteps: Int = 500) throws -> (GenerationResult, [GenerationEvent]) {
        var all: [GenerationEvent] = []
        for _ in 0..<maxSteps {
            let events = try gen.step()
            all += events
            for case .finished(let r) in events where r.id == id { return (r, all) }
        }
        throw DistillMLError(file: "<test>", "request \(id) did not finish in \(maxSteps) steps")
    }

    static func alone(_ lm: LanguageModel, _ request: GenerationRequest) throws -> GenerationResult {
        let gen = lm.generator(slots: 1, capacity: 256)
        gen.submit(request)
        return try run(gen, until: request.id).0
    }

    @Test func aRequestAdmittedBetweenStepsDecodesAsIfAlone() throws {
        let lm = try Self.model()
        let a = GenerationRequest(id: 1, prompt: Self.prompt(lm, "讲一个故事"), maxTokens: 24)
        let b = GenerationRequest(id: 2, prompt: Self.prompt(lm, "What is 2+2? 🤔"), maxTokens: 16)
        let gen = lm.generator(slots: 4, capacity: 256)
        gen.submit(a)
        for _ in 0..<5 { _ = try gen.step() }
        #expect(gen.runningCount == 1)
        gen.submit(b)
        let (rb, events) = try Self.run(gen, until: 2)
        let ra = try events.compactMap { e -> GenerationResult? in
            if case .finished(let r) = e, r.id == 1 { return r } else { return nil }
        }.first ?? Self.run(gen, until: 1).0
        #expect(rb.tokens == (try Self.alone(lm, b)).tokens)
        #expect(ra.tokens == (try Self.alone(lm, a)).tokens)
    }

    @Test func cancellingFreesTheSlotForTheNextRequest() throws {
        let lm = try Self.model()
        let gen = lm.generator(slots: 1, capacity: 256)
        gen.submit(GenerationRequest(id: 1, prompt: Self.prompt(lm, "数到一百"), maxTokens: 200))
        gen.submit(GenerationRequest(id: 2, prompt: Self.prompt(lm, "hi"), maxTokens: 4))
        for _ in 0..<3 { _ = try gen.step() }
        #expect(gen.queuedCount == 1)
        let cancelled = try #require(gen.cancel(1))
        #expect(cancelled.finishReason == .cancelled)
        #expect(cancelled.tokens.count == 3)
        #expect(gen.cancel(1) == nil, "a request is cancelled once")
        let (r, _) = try Self.run(gen, until: 2)
        #expect(r.finishReason == .length || r.finishReason == .eos)
        #expect(!gen.hasWork)
    }

    @Test func aPromptThatDoesNotFitFailsAloneAndTheOthersFinish() throws {
        let lm = try Self.model()
        let gen = lm.generator(slots: 2, capacity: 128)
        gen.submit(GenerationRequest(id: 1, prompt: Array(repeating: 5, count: 200), maxTokens: 4))
        gen.submit(GenerationRequest(id: 2, prompt: Self.prompt(lm, "hi"), maxTokens: 4))
        let (r, events) = try Self.run(gen, until: 2)
        #expect(r.tokens.count <= 4)
        let failed = events.compactMap { e -> String? in if case .failed(1, let m) = e { m } else { nil } }
        #expect(failed.count == 1)
        #expect(failed.first?.contains("does not fit the context of 128") == true)
        // The batch API still reports the failure, after the others finished.
        var finished: [Int] = []
        #expect(throws: DistillMLError.self) {
            try lm.generator(slots: 2, capacity: 128).generate([
                GenerationRequest(id: 1, prompt: Array(repeating: 5, count: 200), maxTokens: 4),
                GenerationRequest(id: 2, prompt: Self.prompt(lm, "hi"), maxTokens: 4),
            ]) { finished.append($0.id) }
        }
        #expect(finished == [2])
    }

    @Test func thePrefixCacheOutlivesARequest() throws {
        let lm = try Self.model()
        let gen = lm.generator(slots: 2, capacity: 256)
        let p = Self.prompt(lm, "同一个问题")
        gen.submit(GenerationRequest(id: 1, prompt: p, maxTokens: 8))
        let (first, _) = try Self.run(gen, until: 1)
        #expect(first.cachedPromptTokens == 0)
        let computed = gen.promptTokensComputed
        gen.submit(GenerationRequest(id: 2, prompt: p, maxTokens: 8))
        let (second, _) = try Self.run(gen, until: 2)
        #expect(second.cachedPromptTokens == p.count - 1)
        #expect(gen.promptTokensComputed == computed + 1)
        #expect(second.tokens == first.tokens)
    }

    @Test func streamedDeltasAreWholeCharactersAndAddUpToTheText() throws {
        let lm = try Self.model()
        let free = try Self.alone(lm, GenerationRequest(id: 1, prompt: Self.prompt(lm, "写一首诗 🌸"), maxTokens: 40))
        try #require(free.text.count >= 6, "the tiny model stopped too early: \(free.text.debugDescription)")
        let stop = String(free.text.dropFirst(free.text.count / 2).prefix(2))
        for stops in [[String](), [stop]] {
            let gen = lm.generator(slots: 1, capacity: 256)
            gen.submit(GenerationRequest(id: 1, prompt: Self.prompt(lm, "写一首诗 🌸"), maxTokens: 40, stop: stops, streams: true))
            let (r, events) = try Self.run(gen, until: 1)
            let deltas = events.compactMap { e -> String? in if case .token(_, _, let t, _, _) = e { t } else { nil } }
            let streamed = deltas.joined()
            #expect(r.text.hasPrefix(streamed), "streamed text is a prefix of the final text")
            #expect(streamed.count >= r.text.count - 8, "at most a held-back tail is left for the final event")
            if let s = stops.first {
                #expect(r.finishReason == .stop)
                #expect(!streamed.contains(s))
            }
        }
    }

    @Test func deltasHoldBackHalfCharactersAndPossibleStops() {
        // "你好" decoded with its last character's bytes incomplete ends in U+FFFD: only "你" may go out.
        #expect(Generator.streamableDelta("你\u{FFFD}", after: 0, stops: []) == "你")
        #expect(Generator.streamableDelta("你好", after: "你".utf8.count, stops: []) == "好")
        // A tail that may grow into the stop string "###" waits; a finished stop never reaches a delta.
        #expect(Generator.streamableDelta("答案是 4#", after: 0, stops: ["###"]) == "答案是 4")
        #expect(Generator.streamableDelta("答案是 4#", after: 0, stops: ["##!"]) == "答案是 4")
        #expect(Generator.streamableDelta("答案是 4!", after: 0, stops: ["###"]) == "答案是 4!")
        #expect(Generator.streamableDelta("😀", after: 0, stops: []) == "😀")
    }

    /// Allows only the token ids in `allowed`.
    final class OnlyThese: LogitsProcessor, @unchecked Sendable {
        let allowed: Set<Int>
        var accepted: [Int] = []
        init(_ allowed: Set<Int>) { self.allowed = allowed }
        func process(_ logits: UnsafeMutableBufferPointer<Float>, generated: [Int]) {
            for i in logits.indices where !allowed.contains(i) { logits[i] = -.infinity }
        }
        func accept(_ token: Int) { accepted.append(token) }
    }

    @Test func aLogitsProcessorConstrainsEveryToken() throws {
        let lm = try Self.model()
        let digits = Set(lm.tokenizer.encode("0123456789", addSpecial: false))
        let processor = OnlyThese(digits)
        let r = try Self.alone(lm, GenerationRequest(id: 1, prompt: Self.prompt(lm, "pick"), maxTokens: 12,
                                                     logitsProcessor: processor))
        #expect(r.tokens.count == 12)
        #expect(r.tokens.allSatisfy { digits.contains($0) })
        #expect(processor.accepted == r.tokens)
        #expect(r.tokenLogprobs.allSatisfy { $0.isFinite && $0 <= 0 })
    }
}
