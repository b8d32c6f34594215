import DistillData
import Foundation

/// `manifest.json` of a run directory: a fingerprint of everything that decides what the teacher is asked — input
/// data, prompt templates, endpoint and model, generation and recipe parameters. Operational knobs (concurrency, rate
/// limits, retries, fsync, shard) are deliberately left out: changing them must not invalidate paid-for results.
public struct HarvestManifest: Codable, Sendable, Equatable {
    /// An input file, identified by its role and content; the path is kept for messages only.
    public struct Input: Codable, Sendable, Equatable {
        public var role: String
        public var path: String
        public var sha256: String
        public var bytes: Int

        /// Hashes the file at `path` (streamed: inputs can be larger than memory).
        public init(role: String, path: String) throws {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let size = attributes[.size] as? NSNumber else {
                throw DataError(file: path, "cannot read input; check the path")
            }
            self.init(role: role, path: path, sha256: try SHA256.hex(fileAt: path), bytes: size.intValue)
        }

        public init(role: String, path: String, sha256: String, bytes: Int) {
            self.role = role
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
        }
    }

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
        return SHA256.hex((try? JSONLines.encoder.encode(c)) ?? Data())
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
        let oldInputs = Dictionary(inputs.map { ($0.role, $0) }, uniquingKeysWith: { a, _ in a })
        let newInputs = Dictionary(new.inputs.map { ($0.role, $0) }, uniquingKeysWith: { a, _ in a })
        for role in Set(oldInputs.keys).union(newInputs.keys).sorted() {
            switch (oldInputs[role], newInputs[role]) {
            case let (o?, n?) where o.sha256 != n.sha256:
                out.append("input \(role) changed: \(o.path) (\(o.bytes) bytes, sha256 \(o.sha256.prefix(12))…) → "
                    + "\(n.path) (\(n.bytes) bytes, sha256 \(n.sha256.prefix(12))…)")
            case let (o?, nil): out.append("input \(role) (\(o.path)) is no longer given")
            case let (nil, n?): out.append("input \(role) (\(n.path)) is new")
            default: break
            }
        }
        for name in Set(prompts.keys).union(new.prompts.keys).sorted() where prompts[name] != new.prompts[name] {
            switch (prompts[name], new.prompts[name]) {
            case (nil, _): out.append("prompt template '\(name)' is new")
            case (_, nil): out.append("prompt template '\(name)' is no longer used")
            default: out.append("prompt template '\(name)' text changed")
            }
        }
        if Self.normalisedURL(maskedURL(baseURL)) != Self.normalisedURL(maskedURL(new.baseURL)) {
            out.append("teacher endpoint: \(maskedURL(baseURL)) → \(maskedURL(new.baseURL))")
        }
        if model != new.model { out.append("model: \(model) → \(new.model)") }
        for name in Set(parameters.keys).union(new.parameters.keys).sorted() where parameters[name] != new.parameters[name] {
            out.append("parameter \(name): \(parameters[name] ?? "(unset)") → \(new.parameters[name] ?? "(unset)")")
        }
        return out
    }
}
