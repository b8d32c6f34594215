import Foundation

/// The learning rate at each optimiser step: linear warmup from 0, then cosine, linear or constant.
///
/// transformers' `get_{cosine,linear,constant}_schedule_with_warmup`, evaluated at the number of steps already
/// taken (the scheduler steps after the optimiser, so step 0 runs at `lr · 0/warmup` when warmup > 0, as there).
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case cosine, linear, constant
    }

    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var kind: Kind

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, kind: Kind) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.kind = kind
    }

    /// The rate used by the update of step `step` (0-based).
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
        let span = Double(max(1, totalSteps - warmupSteps))
        switch kind {
        case .constant:
            return peak
        case .linear:
            return peak * max(0, Double(totalSteps - step) / span)
        case .cosine:
            let progress = Double(step - warmupSteps) / span
            return peak * max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}
