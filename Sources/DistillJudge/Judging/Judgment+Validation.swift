import DistillData
import Foundation

extension Judgment {
    /// Throws a `DataError` at `file:line` when a score (or partial score) lies outside the rubric's scale: a
    /// journal edited by hand or written by another tool must not put a 99 into a 0–1 average.
    public func checkScores(in scale: ClosedRange<Int>, file: String, line: Int) throws {
        for (label, map) in [("scores", scores), ("partial_scores", partialScores)] {
            guard let map else { continue }
            for criterion in map.keys.sorted() {
                guard let value = map[criterion], !scale.contains(value) else { continue }
                throw DataError(file: file, line: line, field: "\(label).\(criterion)",
                    "score \(value) is outside the rubric's scale \(scale.lowerBound)–\(scale.upperBound) "
                    + "(rubric '\(rubric)'); fix or remove the line, or re-run the judge")
            }
        }
    }
}

/// The scale each judgment's scores must lie in: the manifest's when there is one, else that of the rubric the
/// judgment names (when it can be found and has the same version), else none.
struct JudgmentScaleLookup {
    let manifestScale: ClosedRange<Int>?
    private var rubrics: [String: ClosedRange<Int>?] = [:]

    init(manifest: JudgeManifest?) {
        manifestScale = manifest.map { min($0.scaleMin, $0.scaleMax)...max($0.scaleMin, $0.scaleMax) }
    }

    mutating func scale(for j: Judgment) -> ClosedRange<Int>? {
        if let manifestScale { return manifestScale }
        let key = j.rubric + "\u{0}" + j.rubricVersion
        if let known = rubrics[key] { return known }
        let found = (try? Rubric.load(j.rubric)).flatMap { $0.version == j.rubricVersion ? $0.scale : nil }
        rubrics[key] = .some(found)
        return found
    }
}
