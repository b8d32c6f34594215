import Foundation

/// A model that wants to see every micro-batch of an optimiser step before it accumulates them (to normalise each
/// objective term over the step's tokens of that term).
public protocol TrainingStepObserver: AnyObject {
    func willAccumulate(_ batches: [TrainingBatch])
}
