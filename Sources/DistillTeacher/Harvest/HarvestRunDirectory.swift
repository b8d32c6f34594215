import DistillData
import Foundation

/// A run directory (`--out RUN`): `manifest.json`, `journal.jsonl`, `failures.jsonl` and the output files.
/// Opening it with the same manifest resumes; a different fingerprint is refused with what changed, unless the
/// caller asks for a new run, in which case the old directory is moved aside (never deleted: it holds paid results).
public struct HarvestRunDirectory: Sendable {
    public let path: String
    public let manifest: HarvestManifest
    /// True when the directory already held this run (so the journal may hold finished requests).
    public let resumed: Bool
    /// Where an earlier, different run was moved by `startNew` (nil if none was).
    public let movedAside: String?

    public var manifestPath: String { path + "/manifest.json" }

    /// Creates `path` or reopens it for `manifest`.
    public static func open(_ path: String, manifest: HarvestManifest, startNew: Bool = false) throws -> HarvestRunDirectory {
        let fm = FileManager.default
        let manifestPath = path + "/manifest.json"
        var movedAside: String? = nil
        var resumed = false
        var manifest = manifest
        if fm.fileExists(atPath: manifestPath) {
            let old: HarvestManifest
            do {
                old = try JSONDecoder().decode(HarvestManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
            } catch {
                throw HarvestError(.notARun, "\(manifestPath): not a harvest manifest (\(JSONLines.describe(error))); "
                    + "use another --out directory")
            }
            let changes = old.differences(from: manifest)
            if old.fingerprint == manifest.fingerprint || changes.isEmpty {
                resumed = true
                manifest.createdAt = old.createdAt
            } else if startNew {
                movedAside = try moveAside(path)
            } else {
                throw HarvestError(.fingerprintChanged, """
                    \(path) holds a run made with a different configuration, so its results cannot be reused as they are:
                      \(changes.joined(separator: "\n  "))
                    Run the same command as before to resume it, choose another --out, or pass --new to start over \
                    (the old run is moved aside, not deleted).
                    """)
            }
        } else if let contents = try? fm.contentsOfDirectory(atPath: path),
                  contents.contains(where: { $0 == "journal.jsonl" || $0.hasSuffix(".jsonl") }) {
            throw HarvestError(.notARun, "\(path) has JSONL files but no manifest.json; it is not a harvest run "
                + "(or its manifest was deleted) — choose another --out")
        }
        do {
            // Private to the user: a run holds paid data.
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DataError(file: path, "cannot create the run directory: \(error.localizedDescription)")
        }
        if manifest.createdAt.isEmpty { manifest.createdAt = ISO8601DateFormatter().string(from: Date()) }
        manifest.fingerprint = manifest.computeFingerprint()
        let encoder = JSONLines.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        try JSONLines.writeAtomically(try encoder.encode(manifest), to: manifestPath)
        return HarvestRunDirectory(path: path, manifest: manifest, resumed: resumed, movedAside: movedAside)
    }

    private static func moveAside(_ path: String) throws -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        var target = "\(path).replaced-\(stamp)"
        var n = 2
        while FileManager.default.fileExists(atPath: target) {
            target = "\(path).replaced-\(stamp)-\(n)"
            n += 1
        }
        guard rename(path, target) == 0 else {
            throw DataError(file: path, "cannot move the old run aside to \(target): \(String(cString: strerror(errno)))")
        }
        return target
    }

    /// Writes one output file atomically from `lines` (each one JSON object, no newline).
    public func writeOutput(_ name: String, lines: [Data]) throws {
        var data = Data()
        data.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines {
            data.append(line)
            data.append(0x0A)
        }
        try JSONLines.writeAtomically(data, to: path + "/" + name)
    }
}
