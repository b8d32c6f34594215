import DistillData
import DistillML
import Foundation

/// `distill train --loss …`: the data, model and log hooks of the objectives other than plain cross-entropy.
extension TrainRun {
    /// The training data for `o.objective`: plain files for ce and the KD losses, rationale items for
    /// multitask / counterfactual / icl, answer rows with their top-k aligned for topk.
    static func loadData(_ o: TrainOptions, tokenizer: TrainingTokenizer) throws -> TrainingData {
        let obj = o.objective
        if let settings = obj.dataSettings {
            let items = try ObjectiveData.build(files: o.data, settings: settings)
            let data = try TrainingData.load(objective: items, tokenizer: tokenizer, validationFraction: o.valSplit, seed: o.seed,
                                             holdOutTasks: Set(obj.holdOutTasks))
            let counts = items.termNames.indices.map { t in "\(items.items.filter { $0.term == t }.count) \(items.termNames[t])" }
            let weights = items.termNames.indices.map { String(format: "%@ %.3g", items.termNames[$0], items.termWeights[$0]) }
            note("train: --loss \(obj.loss.rawValue): items " + counts.joined(separator: ", ")
                 + "; term weights " + weights.joined(separator: ", "))
            return data
        }
        if obj.loss == .topk {
            let (d, dropped, truncated) = try TopKData.load(files: o.data, tokenizer: tokenizer)
            note(String(format: "train: top-k: %d of %d reply tokens matched a teacher token (mismatch %.1f%%)",
                        d.matched, d.positions, 100 * d.mismatchRate)
                 + (d.rowsWithoutLogprobs > 0 ? "; \(d.rowsWithoutLogprobs) rows without logprobs (cross-entropy only)" : ""))
            guard d.positions > 0, d.mismatchRate <= obj.maxMismatch else {
                throw DataError(file: o.data[0], String(format: "%.1f%% of the reply tokens have no teacher token with the same bytes ", 100 * d.mismatchRate)
                    + "(limit \(obj.maxMismatch) by --max-mismatch): the teacher's tokenizer differs from the student's, or the rows "
                    + "have no logprobs (harvest answer --top-logprobs K); raise --max-mismatch to train anyway")
            }
            guard !d.examples.isEmpty else { throw DataError(file: o.data[0], "no trainable tokens") }
            let (train, validation) = TrainingData.split(d.examples, fraction: o.valSplit, seed: o.seed)
            return TrainingData(train: train, validation: validation, dropped: dropped, truncated: truncated)
        }
        return try TrainingData.load(files: o.data, tokenizer: tokenizer, validationFraction: o.valSplit, seed: o.seed)
    }

    /// The model the trainer drives: the student itself for ce (unchanged path), else a `DistillationModel`.
    static func objectiveModel(_ student: TrainableLlama, _ o: TrainOptions, studentTokenizer: Tokenizer) throws -> any TrainableModel {
        let obj = o.objective
        guard obj.loss != .ce else { return student }
        var teacher: LlamaModel?
        if let name = obj.teacherModel, obj.teacherCache == nil {
            teacher = try loadTeacher(try ModelStore.resolve(name), studentTokenizer: studentTokenizer,
                                      studentVocabulary: student.config.vocabSize)
            note("train: the teacher's logits are computed in each step")
        }
        var names = ["ce"], weights: [Double] = []
        if let settings = obj.dataSettings { (names, weights) = ObjectiveData.terms(settings) }
        let kd = obj.divergence != nil || obj.loss == .topk
        // From a teacher cache, forward KL is the top-k loss with the tail bucket (exact for the cached top-k).
        let cached = obj.teacherCache != nil
        var objective = DistillationModel.Objective(termNames: names, ceWeight: kd ? obj.alpha : 1,
                                                    divergence: cached ? nil : obj.divergence,
                                                    topK: obj.loss == .topk ? obj.topKVariant : cached ? .tail : nil,
                                                    temperature: obj.temperature)
        objective.termWeights = weights
        return try DistillationModel(student: student, teacher: teacher, objective: objective)
    }

    /// Each term's mean over the last step, as `loss_<term>` fields for the JSONL log (empty for plain ce).
    static func termFields(_ model: any TrainableModel) -> [String: Double] {
        guard let d = model as? DistillationModel else { return [:] }
        defer { d.resetTerms() }
        return Dictionary(d.terms.map { ("loss_" + $0.name, $0.mean) }, uniquingKeysWith: { a, _ in a })
    }

    /// The progress line with each term (cut at 79 columns, terms last):
    /// `step 3/9 loss 2.3104 |g| 1.21 ETA 1m | answer 1.90 rationale 2.72 eval 2.41`.
    static func objectiveProgressLine(_ r: Trainer.StepResult, total: Int, eta: Double, terms: [String: Double],
                                      eval: Double?) -> String {
        var s = String(format: "step %d/%d loss %.4f |g| %.2f ETA %@ |", r.step, total, r.loss, r.gradNorm, GenerateCommand.duration(eta))
        if let eval { s += String(format: " eval %.3f", eval) }
        for k in terms.keys.sorted() { s += String(format: " %@ %.2f", String(k.dropFirst(5)), terms[k] ?? 0) }
        return String(s.prefix(79))
    }

    /// Records the prompt format the trained model expects in DIR/prompt-format.json (sorted keys).
    static func writePromptFormat(_ o: TrainOptions) throws {
        guard let format = o.objective.promptFormat else { return }
        let obj = JSONValue.object(format.keys.sorted().map { .init($0, .string(format[$0] ?? "")) })
        try AtomicFile.write(obj.compactData() + Data("\n".utf8), to: o.out + "/prompt-format.json")
    }
}
