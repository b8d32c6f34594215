import Foundation

extension SummaryBuilder {
    /// Does the judge fail more often on one model's outputs? If so, that model's mean is over a different (and
    /// probably easier) set of items. Fisher's exact test on (invalid, valid) for every pair, Holm-adjusted.
    func failureRateWarnings(_ models: [EvaluationSummary.ModelStats]) -> [String] {
        var pairs: [(String, String, Double)] = []
        for i in models.indices {
            for k in models.indices where k > i {
                let a = models[i], b = models[k]
                let p = FisherExact.twoSided(a.nTotal - a.nValid, a.nValid, b.nTotal - b.nValid, b.nValid)
                pairs.append((a.label, b.label, p))
            }
        }
        let adjusted = Descriptive.holm(pairs.map(\.2))
        return zip(pairs, adjusted).compactMap { pair, p in
            guard p < alpha, let a = models.first(where: { $0.label == pair.0 }), let b = models.first(where: { $0.label == pair.1 }) else { return nil }
            return "The judge's failure rate differs between \(a.label) (\(a.nTotal - a.nValid)/\(a.nTotal) invalid) and "
                + "\(b.label) (\(b.nTotal - b.nValid)/\(b.nTotal)): Fisher exact p = \(Self.format(p)) (Holm-adjusted). "
                + "Their means are over different item sets; compare them on the complete-case table."
        }
    }

    /// Judge = teacher (or its family), and references that are the teacher's own outputs.
    func leakageWarnings(_ views: [String: [Int: ItemView]]) -> [String] {
        var out: [String] = []
        if let m = manifest, let teacher = m.teacherModel, let relation = ModelFamily.relation(judge: m.judgeModel, teacher: teacher) {
            out.append("The judge (\(m.judgeModel)) and the teacher (\(teacher)) are the \(relation): the judge may favour "
                + "the teacher and students trained on its outputs (preference leakage, arXiv 2502.01534). Use an unrelated judge to confirm.")
        }
        if manifest?.referenceFromTeacher == true {
            out.append("The reference outputs are the teacher's own (as stated when judging): the teacher is scored against "
                + "itself, so its Correctness and Completeness are inflated.")
        } else if let teacher = teacherLabel, let items = views[teacher], !items.isEmpty {
            let same = items.values.filter {
                $0.generateOutput.trimmingCharacters(in: .whitespacesAndNewlines) == $0.referenceOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            }.count
            if same * 2 >= items.count {
                out.append("For \(same) of \(items.count) items the teacher's output equals the reference output: the references look "
                    + "like the teacher's own, so the teacher is scored against itself (its Correctness and Completeness are inflated).")
            }
        }
        return out
    }

    /// Items compared across models by position must be the same item.
    func alignmentWarnings(_ labels: [String], _ views: [String: [Int: ItemView]]) -> [String] {
        guard let first = labels.first, let base = views[first] else { return [] }
        var out: [String] = []
        for label in labels.dropFirst() {
            guard let other = views[label] else { continue }
            let mismatched = base.keys.filter { i in
                guard let o = other[i], let b = base[i] else { return false }
                return o.instruction != b.instruction || o.input != b.input
            }.sorted()
            if let firstBad = mismatched.first {
                out.append("\(mismatched.count) items of \(label) differ from \(first) at the same position (first: item \(firstBad)); "
                    + "paired comparisons assume the generation files list the same test items in the same order.")
            }
        }
        return out
    }

    static func format(_ p: Double) -> String {
        p < 0.001 ? String(format: "%.1e", p) : String(format: "%.3f", p)
    }
}
