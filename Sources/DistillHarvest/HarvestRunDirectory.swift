import DistillClient
import DistillData
import Foundation

/// A harvest run directory (`--out RUN`): `manifest.json`, `journal.jsonl`, `failures.jsonl` and the recipe's
/// outputs, opened through the one `RunDirectory` (fingerprint, lock, move-aside) with harvest's own errors.
public struct HarvestRunDirectory: Sendable {
    let run: RunDirectory<HarvestManifest>

    public var path: String { run.path }
    public var manifest: HarvestManifest { run.manifest }
    /// True when the directory already held this run (so the journal may hold finished requests).
    public var resumed: Bool { run.resumed }
    /// Where an earlier, different run was moved by `startNew` (nil if none was).
    public var movedAside: String? { run.movedAside }
    public var manifestPath: String { run.manifestPath }

    /// Creates `path` or reopens it for `manifest`; holds the run's lock while this value (or a copy) lives.
    public static func open(_ path: String, manifest: HarvestManifest, startNew: Bool = false) throws -> HarvestRunDirectory {
        do {
            return HarvestRunDirectory(run: try RunDirectory.open(path, manifest: manifest, startNew: startNew))
        } catch let e as RunDirectoryError {
            throw HarvestError(e.kind == .changed ? .fingerprintChanged : .notARun, e.message)
        }
    }

    /// Writes one output file atomically from `lines` (each one JSON object, no newline).
    public func writeOutput(_ name: String, lines: [Data]) throws {
        try run.writeOutput(name, lines: lines)
    }

    /// Gives the run's lock up before the process ends.
    public func close() { run.close() }
}
