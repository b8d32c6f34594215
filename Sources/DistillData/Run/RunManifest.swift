import Foundation

/// What produced a run directory, fingerprinted: every stage (harvest, judge, generate, train) writes one, so that
/// running the same command again resumes, and a changed input, model or parameter is refused with what changed
/// instead of being silently mixed in.
///
/// The fingerprint covers what decides the results (inputs by content, model by hash, prompts, parameters) and
/// nothing operational (paths, concurrency, rate limits), so moving a file or raising a limit keeps paid results.
public protocol RunManifest: Codable, Sendable {
    /// The stage's name in messages: "harvest", "judge", "generate", "train".
    static var stage: String { get }
    var fingerprint: String { get set }
    /// When the run was first made (informational, not fingerprinted).
    var createdAt: String { get set }
    /// SHA-256 over canonical JSON (sorted keys) of the fingerprinted fields.
    func computeFingerprint() -> String
    /// What differs between the run on disk (`self`) and a new command's manifest, in words a user can act on;
    /// empty when they are the same run.
    func differences(from new: Self) -> [String]
}

extension RunManifest {
    /// SHA-256 of `value` encoded as canonical JSON (sorted keys): the one way manifests fingerprint themselves.
    public static func canonicalHash<T: Encodable>(_ value: T) -> String {
        SHA256.hex((try? JSONLines.encoder.encode(value)) ?? Data())
    }
}

/// An input file identified by its role and content; the path is kept for messages only.
public struct RunInput: Codable, Sendable, Equatable {
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

/// Words for what changed between two manifests, shared by every stage's `differences(from:)`.
public enum RunDifferences {
    /// Inputs compared by role and content: changed, no longer given, new.
    public static func inputs(_ old: [RunInput], _ new: [RunInput]) -> [String] {
        let o = Dictionary(old.map { ($0.role, $0) }, uniquingKeysWith: { a, _ in a })
        let n = Dictionary(new.map { ($0.role, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String] = []
        for role in Set(o.keys).union(n.keys).sorted() {
            switch (o[role], n[role]) {
            case let (a?, b?) where a.sha256 != b.sha256:
                out.append("input \(role) changed: \(a.path) (\(a.bytes) bytes, sha256 \(a.sha256.prefix(12))…) → "
                    + "\(b.path) (\(b.bytes) bytes, sha256 \(b.sha256.prefix(12))…)")
            case let (a?, nil): out.append("input \(role) (\(a.path)) is no longer given")
            case let (nil, b?): out.append("input \(role) (\(b.path)) is new")
            default: break
            }
        }
        return out
    }

    /// Named values compared one by one, in sorted order: `label name: old → new`.
    public static func values(_ old: [String: String], _ new: [String: String], label: String = "parameter") -> [String] {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            old[name] == new[name] ? nil : "\(label) \(name): \(old[name] ?? "(unset)") → \(new[name] ?? "(unset)")"
        }
    }

    /// Named texts (prompt templates) compared without printing them: new, no longer used, text changed.
    public static func texts(_ old: [String: String], _ new: [String: String], label: String = "prompt template") -> [String] {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            switch (old[name], new[name]) {
            case (nil, _): "\(label) '\(name)' is new"
            case (_, nil): "\(label) '\(name)' is no longer used"
            case let (a, b) where a != b: "\(label) '\(name)' text changed"
            default: nil
            }
        }
    }

    /// One named value: `label: old → new`, or nothing when equal.
    public static func value<T: Equatable & CustomStringConvertible>(_ label: String, _ old: T, _ new: T) -> [String] {
        old == new ? [] : ["\(label): \(old) → \(new)"]
    }
}
