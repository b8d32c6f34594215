import Foundation

/// Builds an `EvaluationSummary` from journal lines. Pure: same judgments and seed, same summary.
///
/// Per item, the latest scored judgment of each repeat counts; without one, the latest judgment says why it is
/// invalid. With several repeats, an item's score per criterion is the median of its valid repeats (FastChat's advice
/// for unstable judges), and it is valid when at least one repeat is.
public struct SummaryBuilder: Sendable {
    public var criteria: [String]
    public var scale: ClosedRange<Int>
    public var manifest: JudgeManifest?
    public var teacherLabel: String?
    public var baselineLabel: String?
    public var bootstrap = Bootstrap()
    /// Significance level for warnings.
    public var alpha = 0.05

    public init(criteria: [String], scale: ClosedRange<Int>, manifest: JudgeManifest? = nil) {
        self.criteria = criteria
        self.scale = scale
        self.manifest = manifest
        teacherLabel = manifest?.teacherLabel
        baselineLabel = manifest?.baselineLabel
    }

    /// One model's item after repeats are combined.
    struct ItemView {
        var scores: [String: Double]  // only when the item is valid
        var validCriteria: [String: [Int]]  // every valid score per criterion, over repeats (partial included)
        var invalidReason: String?
        var step: String?
        var instruction: String
        var input: String
        var referenceOutput: String
        var generateOutput: String
        var category: String?
    }

    public func build(_ judgments: [Judgment]) -> EvaluationSummary {
        var labels: [String] = manifest?.inputs.map(\.label) ?? []
        for j in judgments where !labels.contains(j.model) { labels.append(j.model) }
        let byModel = Dictionary(grouping: judgments, by: \.model)
        let views = Dictionary(uniqueKeysWithValues: labels.map { label in (label, itemViews(byModel[label] ?? [])) })
        var warnings: [String] = []
        let models = labels.map { label in
            modelStats(label, views[label] ?? [:], total: manifest?.inputs.first { $0.label == label }?.items)
        }
        let complete = completeCase(labels, views)
        warnings += alignmentWarnings(labels, views)
        var comparisons = self.comparisons(labels, views, complete)
        let adjusted = Descriptive.holm(comparisons.map { $0.wilcoxonP ?? 1 })
        for i in comparisons.indices where comparisons[i].wilcoxonP != nil { comparisons[i].adjustedP = adjusted[i] }
        warnings += failureRateWarnings(models)
        warnings += leakageWarnings(views)
        var summary = EvaluationSummary(criteria: criteria, scaleMin: scale.lowerBound, scaleMax: scale.upperBound, models: models,
                                        completeCaseItems: complete.count, comparisons: comparisons,
                                        retention: retention(labels, views, complete), spread: spread(labels, judgments),
                                        warnings: warnings, manifest: manifest, teacherLabel: teacherLabel, baselineLabel: baselineLabel)
        addContent(&summary, labels, views, complete)
        return summary
    }

    func itemViews(_ js: [Judgment]) -> [Int: ItemView] {
        var byItem: [Int: [Int: [Judgment]]] = [:]
        for j in js { byItem[j.item, default: [:]][j.repeatIndex, default: []].append(j) }
        var out: [Int: ItemView] = [:]
        for (item, repeats) in byItem.sorted(by: { $0.key < $1.key }) {
            // Per repeat: the latest scored line, else the latest line.
            let chosen = repeats.keys.sorted().compactMap { r -> Judgment? in
                let lines = repeats[r] ?? []
                return lines.last { $0.isScored } ?? lines.last
            }
            guard let any = chosen.first else { continue }
            var valid: [String: [Int]] = [:]
            for j in chosen {
                for (c, s) in (j.scores ?? j.partialScores ?? [:]) where criteria.contains(c) { valid[c, default: []].append(s) }
            }
            let scored = chosen.filter(\.isScored)
            var view = ItemView(scores: [:], validCriteria: valid, invalidReason: nil, step: scored.first?.step?.rawValue,
                                instruction: any.instruction, input: any.input, referenceOutput: any.referenceOutput,
                                generateOutput: any.generateOutput, category: any.category)
            if scored.isEmpty {
                view.invalidReason = chosen.last?.problems.first?.reason.rawValue ?? chosen.last?.status.rawValue
            } else {
                for c in criteria {
                    let values = scored.compactMap { $0.scores?[c] }.map(Double.init)
                    if !values.isEmpty { view.scores[c] = Descriptive.median(values) }
                }
            }
            out[item] = view
        }
        return out
    }

    func modelStats(_ label: String, _ items: [Int: ItemView], total: Int?) -> EvaluationSummary.ModelStats {
        let nTotal = max(total ?? 0, (items.keys.max() ?? -1) + 1, items.count)
        // Item order, never dictionary order: the bootstrap resamples by position, so the order decides the CI.
        let ordered = items.keys.sorted().compactMap { items[$0] }
        let valid = ordered.filter { $0.invalidReason == nil }
        var reasons: [String: Int] = [:]
        for v in ordered { if let r = v.invalidReason { reasons[r, default: 0] += 1 } }
        if nTotal > items.count { reasons["not-judged"] = nTotal - items.count }
        var steps: [String: Int] = [:]
        for v in valid { steps[v.step ?? "?", default: 0] += 1 }
        let perCriterion = criteria.map { c -> EvaluationSummary.CriterionStats in
            let values = valid.compactMap { $0.scores[c] }
            var hist = [Int](repeating: 0, count: scale.count)
            for v in values { hist[Int(v.rounded(.down)) - scale.lowerBound] += 1 }
            return .init(criterion: c, nValid: ordered.filter { !($0.validCriteria[c] ?? []).isEmpty }.count,
                         mean: bootstrap.meanInterval(values), median: Descriptive.median(values), histogram: hist)
        }
        let overall = valid.map { v in Descriptive.mean(criteria.compactMap { v.scores[$0] }) }
        var correlations: [Double] = []
        for (i, a) in criteria.enumerated() {
            for b in criteria[(i + 1)...] {
                let pairs = valid.compactMap { v in v.scores[a].flatMap { x in v.scores[b].map { (x, $0) } } }
                let r = Descriptive.pearson(pairs.map(\.0), pairs.map(\.1))
                if !r.isNaN { correlations.append(r) }
            }
        }
        return .init(label: label, nTotal: nTotal, nValid: valid.count, invalidReasons: reasons, steps: steps,
                     criteria: perCriterion, overall: bootstrap.meanInterval(overall),
                     interCriterionCorrelation: Descriptive.mean(correlations))
    }

    /// Each criterion, then nil for "Overall" — only with several criteria: with one, Overall repeats it (and would
    /// double the Holm family).
    var criteriaAndOverall: [String?] { criteria.map(Optional.some) + (criteria.count > 1 ? [nil] : []) }

    func completeCase(_ labels: [String], _ views: [String: [Int: ItemView]]) -> [Int] {
        guard let first = labels.first, let items = views[first] else { return [] }
        return items.keys.sorted().filter { i in labels.allSatisfy { views[$0]?[i]?.invalidReason == nil && views[$0]?[i] != nil } }
    }

    /// Scores of `label` on `items` for a criterion, or the per-item overall mean when `criterion` is nil.
    func values(_ label: String, _ views: [String: [Int: ItemView]], _ items: [Int], _ criterion: String?) -> [Double] {
        items.compactMap { i in
            guard let v = views[label]?[i] else { return nil }
            if let criterion { return v.scores[criterion] }
            return Descriptive.mean(criteria.compactMap { v.scores[$0] })
        }
    }

    func comparisons(_ labels: [String], _ views: [String: [Int: ItemView]], _ items: [Int]) -> [EvaluationSummary.Comparison] {
        guard items.count >= 2 else { return [] }
        var out: [EvaluationSummary.Comparison] = []
        for ai in labels.indices {
            for bi in labels.indices where bi > ai {
                for c in criteriaAndOverall {
                    let a = values(labels[ai], views, items, c), b = values(labels[bi], views, items, c)
                    let w = Wilcoxon.signedRank(a, b)
                    let p = w.flatMap { $0.pValue.isNaN ? nil : $0.pValue }
                    out.append(.init(a: labels[ai], b: labels[bi], criterion: c ?? "Overall", n: items.count,
                                     difference: bootstrap.pairedDifferenceInterval(a, b), wilcoxonP: p,
                                     wilcoxonMethod: p == nil ? nil : w?.method.rawValue, adjustedP: nil))
                }
            }
        }
        return out
    }

    func retention(_ labels: [String], _ views: [String: [Int: ItemView]], _ items: [Int]) -> [EvaluationSummary.Retention] {
        guard let teacher = teacherLabel, labels.contains(teacher), !items.isEmpty else { return [] }
        var out: [EvaluationSummary.Retention] = []
        for label in labels where label != teacher {
            for c in criteriaAndOverall {
                let s = Descriptive.mean(values(label, views, items, c)), t = Descriptive.mean(values(teacher, views, items, c))
                var gap: Double? = nil
                if let base = baselineLabel, labels.contains(base), base != label {
                    let b = Descriptive.mean(values(base, views, items, c))
                    gap = t == b ? nil : (s - b) / (t - b)
                }
                out.append(.init(label: label, criterion: c ?? "Overall", retention: t == 0 ? .nan : s / t, gapClosed: gap))
            }
        }
        return out
    }

    func spread(_ labels: [String], _ judgments: [Judgment]) -> [EvaluationSummary.Spread] {
        guard judgments.contains(where: { $0.repeatIndex > 0 }) else { return [] }
        var out: [EvaluationSummary.Spread] = []
        for label in labels {
            var perItem: [Int: [Int: Judgment]] = [:]
            for j in judgments where j.model == label && j.isScored { perItem[j.item, default: [:]][j.repeatIndex] = j }
            for c in criteria {
                let groups = perItem.keys.sorted().compactMap { perItem[$0] }.map { repeats in
                    repeats.keys.sorted().compactMap { repeats[$0]?.scores?[c] }.map(Double.init)
                }.filter { $0.count >= 2 }
                guard !groups.isEmpty else { continue }
                let agree = Double(groups.filter { Set($0).count == 1 }.count) / Double(groups.count)
                out.append(.init(label: label, criterion: c, items: groups.count, agreement: agree,
                                 meanStandardDeviation: Descriptive.mean(groups.map(Descriptive.standardDeviation))))
            }
        }
        return out
    }
}
