import DistillClient
import DistillData
import Foundation

/// `manifest.json` of a run directory: a fingerprint of everything that decides what the teacher is asked — input
/// data, prompt templates, endpoint and model, generation and recipe parameters. Operational knobs (concurrency, rate
/// limits, retries, fsync, shard) are deliberately left out: changing them must not invalidate paid-for results.
public struct HarvestManifest: RunManifest, Equatable {
    public static let stage = "harvest"

    public typealias Input = RunInput

    public var version: Int = 1
    public var recipe: String
    public var inputs: [Input]
    /// Prompt template name → its full text.
    public var prompts: [String: String]
    public var baseURL: String
    public var model: String
    /// Generation and recipe parameters, as the user would type them.
    public var parameters: [String: String]
    /// SHA-256 over the fields above (not over paths or the fields below).
    public var fingerprint: String = ""
    /// When the run directory was first made (informational).
    public var createdAt: String = ""
    /// `i/n` when this run is one shard of a larger harvest (informational; not fingerprinted).
    public var shard: String?

    enum CodingKeys: String, CodingKey {
        case version, recipe, inputs, prompts, model, parameters, fingerprint, shard
        case baseURL = "base_url"
        case createdAt = "created_at"
    }

    public init(recipe: String, inputs: [Input], prompts: [String: String], baseURL: String, model: String,
                parameters: [String: String]) {
        self.recipe = recipe
        self.inputs = inputs
        self.prompts = prompts
        self.baseURL = maskedURL(baseURL)  // a password in the URL never reaches the file
        self.model = model
        self.parameters = parameters
        self.fingerprint = computeFingerprint()
    }

    /// The fingerprint of the fingerprinted fields, canonical JSON with sorted keys.
    public func computeFingerprint() -> String {
        struct Canonical: Encodable {
            var recipe: String
            var inputs: [String: String]
            var prompts: [String: String]
            var baseURL: String
            var model: String
            var parameters: [String: String]
        }
        let c = Canonical(recipe: recipe,
                          inputs: Dictionary(inputs.map { ($0.role, $0.sha256) }, uniquingKeysWith: { a, _ in a }),
                          prompts: prompts, baseURL: Self.normalisedURL(maskedURL(baseURL)), model: model,
                          parameters: parameters)
        return Self.canonicalHash(c)
    }

    static func normalisedURL(_ s: String) -> String {
        var u = s
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// What differs between an existing run's manifest (`self`) and a new command's, in words a user can act on.
    public func differences(from new: HarvestManifest) -> [String] {
        var out: [String] = []
        if recipe != new.recipe { out.append("recipe: \(recipe) → \(new.recipe)") }
        out += RunDifferences.inputs(inputs, new.inputs)
        out += RunDifferences.texts(prompts, new.prompts)
        if Self.normalisedURL(maskedURL(baseURL)) != Self.normalisedURL(maskedURL(new.baseURL)) {
            out.append("teacher endpoint: \(maskedURL(baseURL)) → \(maskedURL(new.baseURL))")
        }
        if model != new.model { out.append("model: \(model) → \(new.model)") }
        out += RunDifferences.values(parameters, new.parameters)
        return out
    }
}
