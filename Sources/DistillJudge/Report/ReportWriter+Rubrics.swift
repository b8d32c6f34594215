import DistillData
import Foundation

extension ReportWriter {
    /// A report compares models on one rubric: judgments scored under two rubrics (say a judge's 0–5 criteria and a
    /// rule's 0–1 accuracy) have no common criteria or scale, so mixing them is refused with the files to split.
    /// Judgments of one rubric from different judges are allowed (two judge runs over different models), with a
    /// warning that their scores are not on the same footing.
    static func checkOneRubric(_ judgments: [(file: String, judgment: Judgment)]) throws {
        var seen: [(rubric: String, files: [String])] = []
        for (file, j) in judgments {
            let name = "'\(j.rubric)' (version \(j.rubricVersion.prefix(12)))"
            if let k = seen.firstIndex(where: { $0.rubric == name }) {
                if !seen[k].files.contains(file) { seen[k].files.append(file) }
            } else {
                seen.append((name, [file]))
            }
        }
        guard seen.count > 1 else { return }
        let listed = seen.map { "\($0.rubric) in \($0.files.joined(separator: ", "))" }.joined(separator: "; ")
        throw DataError(file: seen[0].files[0], "these judgments come from \(seen.count) rubrics: \(listed). A report compares "
            + "models on one rubric; report each rubric's judgments on their own (distill report --inputs FILES --out DIR, once per rubric)")
    }

    /// "Judged by glm-4-flash (A, B) and qwen-max (C)": scores of different judges are not comparable.
    static func judgeWarnings(_ judgments: [Judgment]) -> [String] {
        var judges: [(judge: String, models: [String])] = []
        for j in judgments {
            if let k = judges.firstIndex(where: { $0.judge == j.judgeModel }) {
                if !judges[k].models.contains(j.model) { judges[k].models.append(j.model) }
            } else {
                judges.append((j.judgeModel, [j.model]))
            }
        }
        guard judges.count > 1 else { return [] }
        return ["These judgments come from \(judges.count) judges: "
            + judges.map { "\($0.judge) (\($0.models.joined(separator: ", ")))" }.joined(separator: "; ")
            + ". Different judges score differently; compare models judged by the same judge."]
    }
}
