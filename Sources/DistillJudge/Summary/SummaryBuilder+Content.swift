import Foundation

extension SummaryBuilder {
    /// What AlpacaEval and MT-bench users look for beside the means: output length, win/tie/loss against a baseline
    /// with a length-controlled difference, and a per-task breakdown.
    func addContent(_ s: inout EvaluationSummary, _ labels: [String], _ views: [String: [Int: ItemView]], _ complete: [Int]) {
        for k in s.models.indices {
            let items = views[s.models[k].label] ?? [:]
            let lengths = items.keys.sorted().compactMap { items[$0] }.map { Double($0.generateOutput.unicodeScalars.count) }
            s.models[k].meanOutputLength = Descriptive.mean(lengths)
        }
        let base = [baselineLabel, teacherLabel, labels.first].compactMap { $0 }.first { labels.contains($0) }
        s.pairwiseBaseline = base
        if let base { s.pairwise = pairwise(labels, base, views, complete) }
        s.tasks = tasks(labels, views)
    }

    /// The per-item score compared across models: the one criterion, or the mean of the criteria.
    func itemScore(_ v: ItemView) -> Double? {
        let xs = criteria.compactMap { v.scores[$0] }
        return xs.isEmpty ? nil : Descriptive.mean(xs)
    }

    func pairwise(_ labels: [String], _ base: String, _ views: [String: [Int: ItemView]], _ items: [Int]) -> [EvaluationSummary.Pairwise] {
        labels.filter { $0 != base }.map { label in
            var d: [Double] = [], x: [Double] = []
            var wins = 0, ties = 0, losses = 0
            for i in items {
                guard let a = views[label]?[i], let b = views[base]?[i], let sa = itemScore(a), let sb = itemScore(b) else { continue }
                if sa > sb { wins += 1 } else if sa < sb { losses += 1 } else { ties += 1 }
                d.append(sa - sb)
                x.append(LengthControl.logRatio(a.generateOutput.unicodeScalars.count, b.generateOutput.unicodeScalars.count))
            }
            let n = d.count
            let (lc, fit) = LengthControl.interval(d, x, bootstrap: bootstrap)
            return .init(label: label, baseline: base, criterion: criteria.count == 1 ? criteria[0] : "Overall", n: n,
                         wins: wins, ties: ties, losses: losses,
                         winRate: n == 0 ? .nan : (Double(wins) + Double(ties) / 2) / Double(n),
                         difference: bootstrap.meanInterval(d), lengthControlled: lc, perDoubling: fit.slope * log(2))
        }
    }

    /// Per task, in first-seen item order, each model's mean over its valid items of that task.
    func tasks(_ labels: [String], _ views: [String: [Int: ItemView]]) -> [EvaluationSummary.TaskStats] {
        var names: [String] = []
        for label in labels {
            let items = views[label] ?? [:]
            for i in items.keys.sorted() { if let c = items[i]?.category, !names.contains(c) { names.append(c) } }
        }
        guard !names.isEmpty else { return [] }
        var out: [EvaluationSummary.TaskStats] = []
        for task in names {
            for label in labels {
                let items = views[label] ?? [:]
                let mine = items.keys.sorted().compactMap { items[$0] }.filter { $0.category == task }
                let scores = mine.filter { $0.invalidReason == nil }.compactMap(itemScore)
                out.append(.init(task: task, label: label, nValid: scores.count, nTotal: mine.count, mean: Descriptive.mean(scores)))
            }
        }
        return out
    }
}
