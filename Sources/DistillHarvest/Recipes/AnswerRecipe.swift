import DistillClient
import Foundation

/// `answer` (sequence-level KD, Kim & Rush 2016): the teacher's answer to every instruction, `samples` times, with
/// the per-token logprobs and top-k alternatives when asked (for top-k KL training against an API teacher).
/// Output `answer.jsonl`: Alpaca rows (`instruction`, `input`, `output` = the teacher's answer) plus `id`, `sample`,
/// `finish_reason`, `reference_output` (the input's own output, if any) and `logprobs`.
public struct AnswerRecipe: HarvestRecipe {
    /// Read from the input file as the run reaches them (`HarvestInput.instructionItems`), or an array.
    public let items: HarvestItems<InstructionItem>
    public let prompts: HarvestPrompts
    public let generation: HarvestGeneration
    public let samples: Int
    public let topLogprobs: Int?

    public init(items: [InstructionItem], prompts: HarvestPrompts, generation: HarvestGeneration, samples: Int = 1,
                topLogprobs: Int? = nil) {
        self.init(items: HarvestItems(items), prompts: prompts, generation: generation, samples: samples, topLogprobs: topLogprobs)
    }

    public init(items: HarvestItems<InstructionItem>, prompts: HarvestPrompts, generation: HarvestGeneration, samples: Int = 1,
                topLogprobs: Int? = nil) {
        self.items = items
        self.prompts = prompts
        self.generation = generation
        self.samples = max(1, samples)
        self.topLogprobs = topLogprobs
    }

    public var name: String { "answer" }
    public var plannedRequests: Int { items.count * samples }
    public static let templateNames = ["answer"]

    struct Row: Encodable {
        var id: String
        var instruction: String
        var input: String
        var output: String
        var sample: Int
        var finishReason: String?
        var referenceOutput: String?
        var logprobs: [TokenLogprob]?
        var truncated: Bool? = nil

        enum CodingKeys: String, CodingKey {
            case truncated, id, instruction, input, output, sample, logprobs
            case finishReason = "finish_reason"
            case referenceOutput = "reference_output"
        }
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        try await session.forEachItem(items, id: \.id) { item in
            let prompt = try prompts.render("answer", ["instruction": item.instruction, "input": item.input])
            var out = HarvestOutput()
            for sample in 0..<samples {
                let request = generation.request(prompt, sample: sample, topLogprobs: topLogprobs)
                let r = try await session.complete(item: item.id, stage: "answer", sample: sample, request)
                try out.add("answer.jsonl", Row(id: item.id, instruction: item.instruction, input: item.input, output: r.text,
                                                sample: sample, finishReason: r.finishReason, referenceOutput: item.output,
                                                logprobs: topLogprobs == nil ? nil : r.choices.first?.logprobs, truncated: r.truncated))
            }
            return out
        }
    }
}
