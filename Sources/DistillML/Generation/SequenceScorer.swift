import Foundation

/// Log-likelihood of given continuations under a model: log p(answer | prompt), token by token.
///
/// The measure of distillation a small model can be judged on honestly: how likely the student finds the teacher's
/// held-out answers (lower negative log-likelihood = closer to the teacher), independent of sampling and of any
/// judge. Several items share one forward pass, each in its own KV-cache slot.
public struct SequenceScorer {
    public let model: LlamaModel
    /// Items scored per forward pass.
    public var batch: Int

    public init(model: LlamaModel, batch: Int = 8) {
        self.model = model
        self.batch = max(1, batch)
    }

    /// One item to score: the prompt is conditioned on, the answer's tokens are scored.
    public struct Item: Sendable {
        public var prompt: [Int]
        public var answer: [Int]
        public init(prompt: [Int], answer: [Int]) {
            self.prompt = prompt
            self.answer = answer
        }
    }

    /// log p(answer[i] | prompt, answer[..<i]) for every answer token of every item (natural log), in item order.
    /// An item whose prompt + answer does not fit the model's context, or has no prompt or no answer, is an error
    /// naming its index.
    public func logprobs(_ items: [Item]) throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(items.count)
        var start = 0
        while start < items.count {
            let group = Array(items[start..<min(items.count, start + batch)])
            for (k, item) in group.enumerated() {
                guard !item.prompt.isEmpty, !item.answer.isEmpty else {
                    throw DistillMLError(file: "<score>", "item \(start + k): an empty prompt or answer cannot be scored")
                }
                guard item.prompt.count + item.answer.count <= model.config.contextLength else {
                    throw DistillMLError(file: "<score>", "item \(start + k): \(item.prompt.count + item.answer.count) tokens "
                        + "exceed the model's context of \(model.config.contextLength)")
                }
            }
            let capacity = group.map { $0.prompt.count + $0.answer.count }.max() ?? 1
            let cache = KVCache(config: model.config, slots: group.count, capacity: capacity)
            // The last answer token predicts nothing we score, so it is not fed.
            let chunks = group.enumerated().map { LlamaModel.Chunk(slot: $0.offset, tokens: $0.element.prompt + $0.element.answer.dropLast()) }
            try model.forward(chunks, cache: cache, logits: .all)
            var row = 0
            for item in group {
                // Row r predicts token r+1 of the fed sequence; the answer starts at prompt.count.
                let first = row + item.prompt.count - 1
                var lps: [Float] = []
                lps.reserveCapacity(item.answer.count)
                for (j, token) in item.answer.enumerated() {
                    lps.append(Sampler.logprobs(model.logits(first + j), id: token, top: 0).0)
                }
                out.append(lps)
                row += item.prompt.count + item.answer.count - 1
            }
            start += group.count
        }
        return out
    }
}
