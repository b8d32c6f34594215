import DistillData
import DistillClient
import DistillHarvest
import Foundation

/// What a `distill harvest` command line asks for, resolved: the recipe with its items and prompt templates, the
/// generation parameters, and the manifest that fingerprints them.
struct HarvestPlan {
    let recipe: any HarvestRecipe
    let generation: HarvestGeneration
    let manifest: HarvestManifest

    /// `structured`: the endpoint is `distill serve`, so JSON-reply recipes ask for `response_format: json_schema`.
    init(_ args: ParsedArguments, recipe name: String, endpoint: Endpoint, structured: Bool = false) throws {
        let library = try PromptLibrary(directory: args[HarvestCommand.prompts])
        let system = try args[HarvestCommand.system] ?? library.template("system").text.trimmingCharacters(in: .whitespacesAndNewlines)
        var generation = HarvestGeneration(model: endpoint.model, system: system, temperature: args[HarvestCommand.temperature],
                                           topP: args[HarvestCommand.topP], maxTokens: args[HarvestCommand.maxTokens],
                                           seed: args[HarvestCommand.seed])
        generation.structured = structured
        self.generation = generation
        // Fingerprinted parameters: what changes the requests. Quantities (samples, paths, targets) are left out: a
        // resumed run may ask for more, and the journal's per-request keys keep what was already paid for.
        var parameters: [String: String] = [:]
        let fingerprinted: [any CommandOption] = [HarvestCommand.temperature, HarvestCommand.topP, HarvestCommand.maxTokens,
            HarvestCommand.seed, HarvestCommand.topLogprobs, HarvestCommand.shots, HarvestCommand.iclMode,
            HarvestCommand.perRequest, HarvestCommand.rougeThreshold, HarvestCommand.task]
        for option in fingerprinted {
            if let v = args.text(option) { parameters[option.name] = v }
        }
        var inputs: [HarvestManifest.Input] = []
        func input(_ role: String, _ path: String) throws -> String {
            inputs.append(try HarvestManifest.Input(role: role, path: path))
            return path
        }
        let data = try args[HarvestCommand.data].map { try input("data", $0) }
        let recipe: any HarvestRecipe
        var templates: [String]
        switch name {
        case "answer":
            templates = AnswerRecipe.templateNames
            recipe = AnswerRecipe(items: try HarvestInput.instructionItems(data ?? ""), prompts: try .load(templates, from: library),
                                  generation: generation, samples: args[HarvestCommand.samples],
                                  topLogprobs: args[HarvestCommand.topLogprobs])
        case "cot":
            templates = CoTRecipe.templateNames
            recipe = CoTRecipe(items: try HarvestInput.questionItems(data ?? ""), prompts: try .load(templates, from: library),
                               generation: generation, paths: args[HarvestCommand.paths],
                               minCorrect: args[HarvestCommand.minCorrect], maxPaths: args[HarvestCommand.maxPaths])
        case "critique-revise":
            templates = CritiqueReviseRecipe.templateNames
            recipe = CritiqueReviseRecipe(items: try HarvestInput.questionItems(data ?? ""),
                                          prompts: try .load(templates, from: library), generation: generation)
        case "counterfactual":
            templates = CounterfactualRecipe.templateNames
            recipe = CounterfactualRecipe(items: try HarvestInput.questionItems(data ?? ""),
                                          prompts: try .load(templates, from: library), generation: generation)
        case "icl":
            templates = ICLRecipe.templateNames
            // The pool is held whole (each query draws from all of it); the queries stream unless they are the pool.
            let queries: HarvestItems<InstructionItem>, pool: [InstructionItem]
            if let file = args[HarvestCommand.pool] {
                queries = try HarvestInput.instructionItems(data ?? "")
                pool = try HarvestInput.wholeSet(try input("pool", file), role: "the ICL pool (--pool)")
            } else {
                pool = try HarvestInput.wholeSet(data ?? "", role: "the ICL pool (--data, when no --pool is given)")
                queries = HarvestItems(pool)
            }
            recipe = ICLRecipe(queries: queries, pool: pool, prompts: try .load(templates, from: library), generation: generation,
                               shots: args[HarvestCommand.shots] ?? 4,
                               mode: args[HarvestCommand.iclMode],
                               seed: args[HarvestCommand.seed] ?? 0)
        case "self-instruct":
            templates = SelfInstructRecipe.templateNames
            recipe = SelfInstructRecipe(seeds: try HarvestInput.wholeSet(data ?? "", role: "the seed tasks"), prompts: try .load(templates, from: library),
                                        generation: generation, target: args[HarvestCommand.numInstructions],
                                        shots: args[HarvestCommand.shots] ?? 3, perRequest: args[HarvestCommand.perRequest] ?? 8,
                                        threshold: args[HarvestCommand.rougeThreshold],
                                        maxRounds: args[HarvestCommand.maxRounds], seed: args[HarvestCommand.seed] ?? 0)
        case "generate-data":
            templates = GenerateDataRecipe.templateNames
            var task = args[HarvestCommand.task] ?? ""
            if let file = args[HarvestCommand.taskFile] {
                guard let text = try? String(contentsOfFile: try input("task", file), encoding: .utf8) else {
                    throw DataError(file: file, "cannot read the task description (UTF-8 text expected)")
                }
                task = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let examples = try data.map { try HarvestInput.wholeSet($0, role: "the examples") } ?? []
            recipe = GenerateDataRecipe(task: task, examples: examples, prompts: try .load(templates, from: library),
                                        generation: generation, target: args[HarvestCommand.numSamples],
                                        perRequest: args[HarvestCommand.perRequest] ?? 5, maxRounds: args[HarvestCommand.maxRounds],
                                        report: { DistillCLI.printError($0) })
        default:
            throw UsageError("unknown recipe '\(name)'")
        }
        self.recipe = recipe
        var prompts = try HarvestPrompts.load(templates, from: library).texts
        prompts["system (sent)"] = system
        manifest = HarvestManifest(recipe: name, inputs: inputs, prompts: prompts, baseURL: endpoint.baseURL,
                                   model: endpoint.model, parameters: parameters)
    }
}
