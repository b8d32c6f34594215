import DistillData
import Foundation

/// One tokenised conversation: its ids and which of them the model learns to predict (the assistant's tokens).
///
/// Position t of a training row reads `tokens[t]` and, when `isTarget[t + 1]`, predicts `tokens[t + 1]`.
public struct TrainingExample: Sendable, Equatable {
    public var tokens: [Int32]
    /// `isTarget[i]`: token i is part of an assistant turn (its content and its end-of-turn token).
    public var isTarget: [Bool]
    public var file: String
    public var line: Int
    /// How much this example's target tokens weigh in a weighted objective (multitask, counterfactual); 1 = plain.
    public var weight: Float = 1
    /// Which term of a weighted objective the example belongs to (an index into the objective's term names).
    public var term: Int = 0
    /// The teacher's top-k at token i (the distribution token i was drawn from), for top-k KD; keyed by token index.
    public var teacherTopK: [Int: TeacherTopK]? = nil

    public init(tokens: [Int32], isTarget: [Bool], file: String, line: Int) {
        self.tokens = tokens
        self.isTarget = isTarget
        self.file = file
        self.line = line
    }

    /// Positions that carry a loss: targets after the first token.
    public var targetCount: Int { isTarget.dropFirst().reduce(0) { $1 ? $0 + 1 : $0 } }
}

/// Turns conversations into `TrainingExample`s through the model's own chat template, with the loss on the
/// assistant's tokens only (every assistant turn, each up to and including its end-of-turn token).
///
/// The assistant span of turn i is found by rendering the conversation up to turn i with the generation prompt
/// (where the assistant's text starts) and up to and including turn i (where it ends), so it is exactly what the
/// template puts there — HF's `apply_chat_template` prefix-render method, without a Jinja engine.
public struct TrainingTokenizer: Sendable {
    /// What to do with a conversation longer than `maxSequence` tokens.
    public enum Overlong: String, Sendable, CaseIterable {
        /// Keep the first `maxSequence` tokens (dropped anyway if no target is left).
        case truncate
        /// Leave the item out.
        case drop
    }

    public let tokenizer: Tokenizer
    public let maxSequence: Int
    public let overlong: Overlong

    public init(tokenizer: Tokenizer, maxSequence: Int, overlong: Overlong = .truncate) {
        self.tokenizer = tokenizer
        self.maxSequence = maxSequence
        self.overlong = overlong
    }

    /// The example for `c`, whether it was cut to `maxSequence`, or why it is left out.
    public func encode(_ c: TrainingConversation) -> Result<(example: TrainingExample, truncated: Bool), TrainingDropReason> {
        let msgs = c.messages.map { (role: $0.role, content: $0.content) }
        let template = tokenizer.chatTemplate
        let ids = tokenizer.encode(template.render(msgs, addGenerationPrompt: false), addSpecial: false)
        var isTarget = [Bool](repeating: false, count: ids.count)
        let stops = Set(tokenizer.stopTokenIDs)
        for (i, m) in msgs.enumerated() where m.role == "assistant" {
            let start = tokenizer.encode(template.render(Array(msgs[..<i]), addGenerationPrompt: true), addSpecial: false).count
            var end = tokenizer.encode(template.render(Array(msgs[...i]), addGenerationPrompt: false), addSpecial: false).count
            end = min(end, ids.count)
            guard start < end else { continue }
            // ChatML puts a newline after `<|im_end|>`: the turn ends at its end-of-turn token.
            if let stop = ids[start..<end].firstIndex(where: { stops.contains($0) }) { end = stop + 1 }
            for t in start..<end { isTarget[t] = true }
        }
        var tokens = ids.map { Int32(truncatingIfNeeded: $0) }
        var truncated = false
        if tokens.count > maxSequence {
            if overlong == .drop { return .failure(.tooLong) }
            tokens.removeLast(tokens.count - maxSequence)
            isTarget.removeLast(isTarget.count - maxSequence)
            truncated = true
        }
        let example = TrainingExample(tokens: tokens, isTarget: isTarget, file: c.file, line: c.line)
        guard example.targetCount > 0 else { return .failure(truncated ? .noTargets : .empty) }
        return .success((example, truncated))
    }
}
