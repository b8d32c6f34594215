import DistillData
import Foundation

/// `manifest.json` of a training output folder (a `RunDirectory`): what the run is made of — each data file and
/// the base model's files by content hash, and every parameter that changes the weights. Re-running the same
/// command resumes; anything else is refused with what differs. Paths and operational knobs (threads, exports,
/// eval and checkpoint cadence) are not fingerprinted.
public struct TrainingManifest: RunManifest, Equatable {
    public static let stage = "train"

    public var version = 1
    /// Data files (roles `data`, `data 2`, …) and the base model's files (roles `model`, or `model/NAME` for an HF folder).
    public var inputs: [RunInput]
    public var parameters: [String: String]
    public var fingerprint: String = ""
    public var createdAt: String = ""

    enum CodingKeys: String, CodingKey {
        case version, inputs, parameters, fingerprint
        case createdAt = "created_at"
    }

    /// Hashes `data` and `modelFiles` (streamed) and fingerprints them with `parameters`.
    public init(data: [String], modelFiles: [String], modelIsFolder: Bool, parameters: [String: String]) throws {
        var inputs: [RunInput] = []
        for (i, path) in data.enumerated() { inputs.append(try RunInput(role: i == 0 ? "data" : "data \(i + 1)", path: path)) }
        for path in modelFiles {
            inputs.append(try RunInput(role: modelIsFolder ? "model/" + URL(fileURLWithPath: path).lastPathComponent : "model", path: path))
        }
        self.init(inputs: inputs, parameters: parameters)
    }

    public init(inputs: [RunInput], parameters: [String: String]) {
        self.inputs = inputs
        self.parameters = parameters
        fingerprint = computeFingerprint()
    }

    public func computeFingerprint() -> String {
        struct Canonical: Encodable {
            var inputs: [String: String]
            var parameters: [String: String]
        }
        return Self.canonicalHash(Canonical(inputs: Dictionary(inputs.map { ($0.role, $0.sha256) }, uniquingKeysWith: { a, _ in a }),
                                            parameters: parameters))
    }

    public func differences(from new: TrainingManifest) -> [String] {
        RunDifferences.inputs(inputs, new.inputs) + RunDifferences.values(parameters, new.parameters)
    }
}
