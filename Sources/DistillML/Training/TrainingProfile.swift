import Foundation

/// Where a training step's wall-clock time goes, phase by phase (`distill bench train` prints it). A model with a
/// profile set times each kernel call it makes; without one it times nothing.
public final class TrainingProfile: @unchecked Sendable {
    public enum Phase: Int, CaseIterable, Sendable {
        case forwardProjections, forwardAttention, forwardOther
        case head
        case backwardProjections, backwardAttention, backwardOther
        case optimizer

        public var label: String {
            switch self {
            case .forwardProjections: "forward projections"
            case .forwardAttention: "forward attention + RoPE"
            case .forwardOther: "forward norms, SwiGLU, residuals, embedding"
            case .head: "head + cross-entropy (forward and backward)"
            case .backwardProjections: "backward projections"
            case .backwardAttention: "backward attention + RoPE"
            case .backwardOther: "backward norms, SwiGLU, residuals, embedding"
            case .optimizer: "AdamW + zeroing the gradients"
            }
        }
    }

    /// Seconds per phase, indexed by `Phase.rawValue`.
    public private(set) var seconds = [Double](repeating: 0, count: Phase.allCases.count)

    public init() {}

    public var total: Double { seconds.reduce(0, +) }

    public func reset() { seconds = [Double](repeating: 0, count: Phase.allCases.count) }

    @inline(__always)
    public func time<R>(_ phase: Phase, _ body: () throws -> R) rethrows -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[phase.rawValue] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}

extension TrainableLlama {
    /// Runs `body`, adding its time to `phase` when a profile is set.
    @inline(__always)
    func timed<R>(_ phase: TrainingProfile.Phase, _ body: () throws -> R) rethrows -> R {
        guard let profile else { return try body() }
        return try profile.time(phase, body)
    }
}
