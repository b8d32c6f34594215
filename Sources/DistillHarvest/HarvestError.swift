import DistillClient
import Foundation

/// Why a harvest run refused to start or stopped. A struct around a kind so callers can match on the kind while the
/// message carries the specifics (what changed, what was spent, what to do).
public struct HarvestError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The run directory was made by a different configuration.
        case fingerprintChanged
        /// The run directory holds something that is not a harvest run.
        case notARun
        /// The dry-run estimate is above `--budget`.
        case overBudget
        /// The run stopped before finishing (budget spent, quota exhausted, teacher failing every request, cancelled).
        case stopped
        /// The run finished but some items failed for good (the command exits 1).
        case itemsFailed
        /// Bad recipe input (no items, missing field, …) found before anything was sent.
        case badInput
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Thrown by `HarvestSession.complete` to the recipe when one request failed for good; the item is counted as failed
/// and the run goes on.
public struct HarvestRequestFailed: Error, CustomStringConvertible, Sendable {
    public var key: HarvestKey
    public var reason: String
    public var description: String { "\(key.item)/\(key.stage)#\(key.sample): \(reason)" }
}

/// Thrown by `HarvestSession.complete` in batch mode: the request went into the next batch; its item waits.
public struct HarvestDeferred: Error, Sendable {}
