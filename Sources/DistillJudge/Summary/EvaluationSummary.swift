import Foundation

/// Everything the report shows, computed once from the journal: validity, means with CIs, distributions, paired
/// comparisons, retention and warnings. Codable, so `summary.json` is the machine-readable export of the report.
public struct EvaluationSummary: Codable, Sendable {
    public struct CriterionStats: Codable, Sendable {
        public var criterion: String
        /// Items with a valid score for this criterion (in scored or partially valid judgments).
        public var nValid: Int
        /// Mean over the model's valid items (the leaderboard's number), with a bootstrap 95% CI.
        public var mean: Interval
        public var median: Double
        /// Counts of each scale value, lowest first.
        public var histogram: [Int]
    }

    public struct ModelStats: Codable, Sendable {
        public var label: String
        public var nTotal: Int
        /// Items with every criterion scored: seed 000's "Valid Data".
        public var nValid: Int
        /// Invalid items by their reason (`not-judged` for items with no judgment line at all).
        public var invalidReasons: [String: Int]
        /// Valid items by the ladder rung that produced them.
        public var steps: [String: Int]
        public var criteria: [CriterionStats]
        /// Mean of the criteria per item, then over items.
        public var overall: Interval
        /// Mean Pearson correlation between pairs of criteria over valid items: near 1 means the judge gives one
        /// impression for all criteria (a halo), so the criteria add little beyond Overall. NaN when undefined.
        public var interCriterionCorrelation: Double
        /// Mean length of the model's judged outputs in Unicode scalars (Python's `len`, AlpacaEval's `avg_length`).
        public var meanOutputLength: Double = .nan
    }

    /// One model against the baseline on the complete-case items, AlpacaEval / MT-bench style.
    public struct Pairwise: Codable, Sendable {
        public var label: String
        public var baseline: String
        /// The per-item score compared: the one criterion, or "Overall" (the mean of the criteria).
        public var criterion: String
        public var n: Int
        public var wins: Int
        public var ties: Int
        public var losses: Int
        /// (wins + ties / 2) / n.
        public var winRate: Double
        /// Mean of label − baseline, as it is.
        public var difference: Interval
        /// The difference at equal output length: intercept of the per-item regression of the score difference on the
        /// log length ratio (see `LengthControl`), with a paired bootstrap 95% CI.
        public var lengthControlled: Interval
        /// Score change per doubling of the output length relative to the baseline's (the fitted slope × ln 2).
        public var perDoubling: Double
    }

    /// One model's mean on one task (the test items' `category`).
    public struct TaskStats: Codable, Sendable {
        public var task: String
        public var label: String
        public var nValid: Int
        public var nTotal: Int
        /// Mean over the valid items of the task of the per-item overall score.
        public var mean: Double
    }

    public struct Comparison: Codable, Sendable {
        public var a: String
        public var b: String
        public var criterion: String
        /// Items valid for every model.
        public var n: Int
        /// Mean of a − b with its paired bootstrap 95% CI.
        public var difference: Interval
        public var wilcoxonP: Double?
        public var wilcoxonMethod: String?
        /// Holm-adjusted across all comparisons in the report.
        public var adjustedP: Double?
    }

    public struct Retention: Codable, Sendable {
        public var label: String
        public var criterion: String
        /// student / teacher (complete-case means).
        public var retention: Double
        /// (student − baseline) / (teacher − baseline), when a baseline is named.
        public var gapClosed: Double?
    }

    public struct Spread: Codable, Sendable {
        public var label: String
        public var criterion: String
        /// Items with at least two valid repeats.
        public var items: Int
        /// Share of those where every repeat gave the same score.
        public var agreement: Double
        /// Mean over items of the within-item standard deviation.
        public var meanStandardDeviation: Double
    }

    public var criteria: [String]
    public var scaleMin: Int
    public var scaleMax: Int
    public var models: [ModelStats]
    /// Items valid for every model (the set comparisons use).
    public var completeCaseItems: Int
    public var comparisons: [Comparison]
    public var retention: [Retention]
    public var spread: [Spread]
    public var warnings: [String]
    public var manifest: JudgeManifest?
    public var teacherLabel: String?
    public var baselineLabel: String?
    /// Every model against `pairwiseBaseline` (the baseline, else the teacher, else the first model).
    public var pairwise: [Pairwise] = []
    public var pairwiseBaseline: String?
    /// Per task (category) and model; empty when the items carry no category.
    public var tasks: [TaskStats] = []
}
