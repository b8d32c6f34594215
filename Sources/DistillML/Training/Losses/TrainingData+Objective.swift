import DistillData
import Foundation

extension TrainingData {
    /// Tokenises an objective's items, grades only the `graded` suffix where one is set (SCOTT), splits them (held-out
    /// ICL tasks, if named, form the validation set: Meta-ICT's unseen tasks); each example keeps its term index
    /// (`DistillationModel` mixes the terms with their weights, each averaged over its own tokens in the step).
    public static func load(objective d: ObjectiveData, tokenizer: TrainingTokenizer, validationFraction: Double,
                            seed: UInt64, holdOutTasks: Set<String> = []) throws -> TrainingData {
        var all: [TrainingExample] = []
        var tasks: [String?] = []
        var dropped: [TrainingDropReason: Int] = [:]
        var truncated = 0
        for item in d.items {
            switch tokenizer.encode(item.conversation) {
            case .failure(let reason):
                dropped[reason, default: 0] += 1
            case .success(var r):
                if let graded = item.graded, let full = item.conversation.messages.last?.content, full.hasSuffix(graded) {
                    // Tokens of the assistant text before the graded suffix: render it alone and count its targets
                    // (less its end-of-turn token); a BPE merge across the boundary can shift this by one token.
                    var head = item.conversation
                    head.messages[head.messages.count - 1].content = String(full.dropLast(graded.count))
                    if case .success(let h) = tokenizer.encode(head) {
                        var skip = max(0, h.example.isTarget.filter { $0 }.count - 1)
                        for i in r.example.isTarget.indices where r.example.isTarget[i] && skip > 0 {
                            r.example.isTarget[i] = false
                            skip -= 1
                        }
                    }
                    guard r.example.targetCount > 0 else { dropped[.noTargets, default: 0] += 1; continue }
                }
                r.example.term = item.term
                all.append(r.example)
                tasks.append(item.task)
                if r.truncated { truncated += 1 }
            }
        }
        guard !all.isEmpty else {
            throw DataError(file: d.items.first?.conversation.file ?? "<data>", "no trainable tokens left for this objective; raise --max-seq")
        }
        var train: [TrainingExample], validation: [TrainingExample]
        if !holdOutTasks.isEmpty {
            train = all.indices.filter { !holdOutTasks.contains(tasks[$0] ?? "") }.map { all[$0] }
            validation = all.indices.filter { holdOutTasks.contains(tasks[$0] ?? "") }.map { all[$0] }
            guard !validation.isEmpty else {
                throw DataError(file: d.items[0].conversation.file, "no item has a task among --hold-out-tasks "
                    + holdOutTasks.sorted().joined(separator: ", "))
            }
        } else {
            (train, validation) = split(all, fraction: validationFraction, seed: seed)
        }
        // The term weights are applied per step by DistillationModel (each term averaged over its own tokens).
        return TrainingData(train: train, validation: validation, dropped: dropped, truncated: truncated)
    }
}
