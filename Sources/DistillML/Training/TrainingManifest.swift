import DistillData
import Foundation

/// `manifest.json` of a training output folder: what the run is made of — the data files by content hash, the base
/// model file by content hash, and every parameter that changes the weights. Re-running the same command resumes;
/// anything else is refused with what differs. Operational knobs (threads, progress, export formats) are left out.
///
/// (A minimal version of the run directory harvest uses; the project is generalising both into one `RunDirectory`.)
public struct TrainingManifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int

        /// Hashes the file at `path` (streamed).
        public init(path: String) throws {
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
                throw DataError(file: path, "cannot read; check the path")
            }
            self.init(path: path, sha256: try SHA256.hex(fileAt: path), bytes: size.intValue)
        }

        public init(path: String, sha256: String, bytes: Int) {
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
        }
    }

    public var version = 1
    public var kind = "train"
    public var data: [File]
    public var model: File
    public var parameters: [String: String]
    public var fingerprint: String = ""
    public var createdAt: String = ""

    enum CodingKeys: String, CodingKey {
        case version, kind, data, model, parameters, fingerprint
        case createdAt = "created_at"
    }

    public init(data: [File], model: File, parameters: [String: String]) {
        self.data = data
        self.model = model
        self.parameters = parameters
        fingerprint = computeFingerprint()
    }

    /// SHA-256 of the canonical JSON (sorted keys) of the data and model hashes and the parameters; paths excluded.
    public func computeFingerprint() -> String {
        struct Canonical: Encodable {
            var data: [String]
            var model: String
            var parameters: [String: String]
        }
        let c = Canonical(data: data.map(\.sha256), model: model.sha256, parameters: parameters)
        return SHA256.hex((try? JSONLines.encoder.encode(c)) ?? Data())
    }

    /// What differs between an existing run (`self`) and a new command, in words a user can act on.
    public func differences(from new: TrainingManifest) -> [String] {
        var out: [String] = []
        if data.map(\.sha256) != new.data.map(\.sha256) {
            let old = data.map { "\($0.path) (sha256 \($0.sha256.prefix(12))…)" }.joined(separator: ", ")
            let now = new.data.map { "\($0.path) (sha256 \($0.sha256.prefix(12))…)" }.joined(separator: ", ")
            out.append("data: \(old) → \(now)")
        }
        if model.sha256 != new.model.sha256 {
            out.append("model: \(model.path) (sha256 \(model.sha256.prefix(12))…) → \(new.model.path) (sha256 \(new.model.sha256.prefix(12))…)")
        }
        for name in Set(parameters.keys).union(new.parameters.keys).sorted() where parameters[name] != new.parameters[name] {
            out.append("\(name): \(parameters[name] ?? "(unset)") → \(new.parameters[name] ?? "(unset)")")
        }
        return out
    }

    /// Opens `directory` for this run: creates it, resumes it (same fingerprint), or refuses another run naming
    /// what differs. Returns whether it resumed.
    public static func open(_ directory: String, _ manifest: TrainingManifest) throws -> Bool {
        let path = directory + "/manifest.json"
        let fm = FileManager.default
        var manifest = manifest
        var resumed = false
        if let data = fm.contents(atPath: path) {
            let old: TrainingManifest
            do { old = try JSONDecoder().decode(TrainingManifest.self, from: data) } catch {
                throw DataError(file: path, "not a training manifest (\(JSONLines.describe(error))); choose another --out")
            }
            let changes = old.differences(from: manifest)
            guard changes.isEmpty else {
                throw DataError(file: directory, """
                    holds another training run, so it cannot be resumed with these settings:
                      \(changes.joined(separator: "\n  "))
                    Run the same command as before to resume it, or choose another --out.
                    """)
            }
            manifest.createdAt = old.createdAt
            resumed = true
        } else if let contents = try? fm.contentsOfDirectory(atPath: directory), !contents.isEmpty {
            throw DataError(file: directory, "is not empty and holds no training manifest.json; choose another --out")
        }
        do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw DataError(file: directory, "cannot create the output folder: \(error.localizedDescription)")
        }
        if manifest.createdAt.isEmpty { manifest.createdAt = ISO8601DateFormatter().string(from: Date()) }
        let encoder = JSONLines.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        try AtomicFile.write(try encoder.encode(manifest), to: path)
        return resumed
    }
}
