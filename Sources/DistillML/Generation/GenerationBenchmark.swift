import Foundation

/// Generation speed measured the way the anchors measure it (llamacpp_gen_bench.py, torch_bench.py gen):
/// `batch` copies of one chat prompt, `newTokens` greedy tokens each with end tokens ignored, wall time
/// including the prompt's prefill.
public enum GenerationBenchmark {
    public struct Figure: Sendable {
        public var batch: Int
        public var tokens: Int
        public var seconds: Double
        /// CPU time (user + system, all threads) spent: on a shared machine, tokens per CPU-second is steadier than wall time.
        public var cpuSeconds: Double
        public var tokensPerSecond: Double { Double(tokens) / seconds }
        public var sampleText: String
        /// Prompt tokens run through the model, and those copied from another slot's identical prefix.
        public var promptTokensComputed: Int
        public var promptTokensShared: Int
    }

    public static let prompt = "Explain why the sky is blue in three sentences."

    public static func run(_ lm: LanguageModel, batch: Int, newTokens: Int = 128, warmup: Bool = true,
                           sharesPrefixes: Bool = true) throws -> Figure {
        let ids = lm.chatPrompt([(role: "user", content: prompt)])
        let gen = Generator(model: lm.model, slots: batch, capacity: ids.count + newTokens + 1, endTokens: []) {
            lm.tokenizer.decode($0, skipSpecial: true)
        }
        if warmup {
            try gen.generate([GenerationRequest(id: 0, prompt: ids, maxTokens: 8)]) { _ in }
        }
        gen.sharesPrefixes = sharesPrefixes
        let (computed0, shared0) = (gen.promptTokensComputed, gen.promptTokensShared)
        let requests = (0..<batch).map { GenerationRequest(id: $0, prompt: ids, maxTokens: newTokens) }
        var tokens = 0
        var sample = ""
        let cpu0 = Self.processCPUSeconds()
        let t0 = DispatchTime.now().uptimeNanoseconds
        try gen.generate(requests) { r in
            tokens += r.tokens.count
            if r.id == 0 { sample = r.text }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        return Figure(batch: batch, tokens: tokens, seconds: seconds, cpuSeconds: Self.processCPUSeconds() - cpu0, sampleText: sample,
                      promptTokensComputed: gen.promptTokensComputed - computed0, promptTokensShared: gen.promptTokensShared - shared0)
    }

    static func processCPUSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }
}
