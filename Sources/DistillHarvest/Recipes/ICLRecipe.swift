import DistillClient
import DistillData
import Foundation

/// `icl` (in-context-learning distillation, Huang et al. 2022, arXiv 2212.10670; seed 001): each query is asked
/// with `shots` demonstrations drawn from a pool of worked examples — from the query's own task (`same-task`, for
/// ICL tuning of one task) or from any task (`mixed`, for meta-ICL / multitask-ICL tuning) — and the teacher's
/// answer is harvested with the demonstrations recorded, so the student can be trained on −log p(y | x, S_k).
///
/// Output `icl.jsonl`: `id`, `task`, `instruction`, `input`, `output` (the teacher's answer), `demonstrations`
/// (`id`, `instruction`, `input`, `output` each), `prompt` (the rendered prompt).
public struct ICLRecipe: HarvestRecipe {
    public enum Mode: String, Sendable, CaseIterable {
        case sameTask = "same-task"
        case mixed
    }

    /// Read from the input file as the run reaches them, or an array.
    public let queries: HarvestItems<InstructionItem>
    /// In memory: every query draws its demonstrations from the whole pool.
    public let pool: [InstructionItem]
    public let prompts: HarvestPrompts
    public let generation: HarvestGeneration
    public let shots: Int
    public let mode: Mode
    public let seed: Int

    public init(queries: [InstructionItem], pool: [InstructionItem], prompts: HarvestPrompts, generation: HarvestGeneration,
                shots: Int = 4, mode: Mode = .sameTask, seed: Int = 0) {
        self.init(queries: HarvestItems(queries), pool: pool, prompts: prompts, generation: generation, shots: shots, mode: mode,
                  seed: seed)
    }

    public init(queries: HarvestItems<InstructionItem>, pool: [InstructionItem], prompts: HarvestPrompts,
                generation: HarvestGeneration, shots: Int = 4, mode: Mode = .sameTask, seed: Int = 0) {
        self.queries = queries
        self.pool = pool.filter { $0.output != nil }
        self.prompts = prompts
        self.generation = generation
        self.shots = max(0, shots)
        self.mode = mode
        self.seed = seed
    }

    public var name: String { "icl" }
    public var plannedRequests: Int { queries.count }
    public static let templateNames = ["icl"]

    struct Demonstration: Encodable {
        var id, instruction, input, output: String
    }

    struct Row: Encodable {
        var id: String
        var task: String?
        var instruction, input, output: String
        var demonstrations: [Demonstration]
        var prompt: String
        var truncated: Bool? = nil
    }

    /// The demonstrations for `query`: `shots` pool items other than the query, chosen by a generator seeded with
    /// the query id, so they are the same on every run.
    func demonstrations(for query: InstructionItem) -> [InstructionItem] {
        var candidates = pool.filter { $0.id != query.id || $0.instruction != query.instruction }
        if mode == .sameTask, let task = query.task {
            let same = candidates.filter { $0.task == task }
            if same.count >= shots { candidates = same }
        }
        var rng = SplitMix64(query.id, seed: seed)
        candidates.shuffle(using: &rng)
        return Array(candidates.prefix(shots))
    }

    /// Demonstrations as numbered blocks: `Example 1` / instruction / `Input:` (if any) / `Output:`.
    static func format(_ demos: [InstructionItem]) -> String {
        demos.enumerated().map { i, d in
            var block = "Example \(i + 1)\nInstruction: \(d.instruction)\n"
            if !d.input.isEmpty { block += "Input: \(d.input)\n" }
            return block + "Output: \(d.output ?? "")"
        }.joined(separator: "\n\n")
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        guard pool.count > shots else {
            throw HarvestError(.badInput, "the ICL pool has \(pool.count) worked examples (records with an \"output\"); "
                + "\(shots)-shot prompts need more than \(shots) — lower --shots or give a larger --pool")
        }
        return try await session.forEachItem(queries, id: \.id) { query in
            let demos = demonstrations(for: query)
            let prompt = try prompts.render("icl", ["demonstrations": Self.format(demos), "instruction": query.instruction,
                                                    "input": query.input])
            let r = try await session.complete(item: query.id, stage: "icl", generation.request(prompt))
            var out = HarvestOutput()
            try out.add("icl.jsonl", Row(id: query.id, task: query.task, instruction: query.instruction, input: query.input,
                                         output: r.text,
                                         demonstrations: demos.map { Demonstration(id: $0.id, instruction: $0.instruction,
                                                                                   input: $0.input, output: $0.output ?? "") },
                                         prompt: prompt, truncated: r.truncated))
            return out
        }
    }
}
