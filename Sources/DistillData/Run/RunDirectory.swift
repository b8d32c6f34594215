import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a run directory could not be opened for a command.
public struct RunDirectoryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The directory holds a run made with a different configuration.
        case changed
        /// The directory (or its manifest) is not a run of this stage.
        case notARun
    }
    public var kind: Kind
    public var message: String
    /// For `.changed`: what differs, one line each.
    public var changes: [String]
    public init(_ kind: Kind, _ message: String, changes: [String] = []) {
        self.kind = kind
        self.message = message
        self.changes = changes
    }
    public var description: String { message }
}

/// The one run directory of every stage: `manifest.json` fingerprints what produced the run, a lock keeps a second
/// process out, and reopening with the same manifest resumes (the stage's own journal says what is done).
///
/// A directory is one run (`name == nil`: `manifest.json` and `.lock`), or holds several runs' files side by side
/// (`name: "student"`: `student.manifest.json` and `student.lock`, e.g. generate's `runs/x/generate/student.jsonl`).
/// Directories are created private to the user (0700): they hold paid data.
public final class RunDirectory<Manifest: RunManifest>: @unchecked Sendable {
    // @unchecked: immutable after `open` except the lock, which is thread-safe.
    public let path: String
    public let manifest: Manifest
    /// True when the directory already held this run (so the stage's journal may hold finished work).
    public let resumed: Bool
    /// Where an earlier, different run was moved by `startNew` (nil if none was).
    public let movedAside: String?
    public let manifestPath: String
    private let lock: RunLock

    private init(path: String, manifest: Manifest, resumed: Bool, movedAside: String?, manifestPath: String, lock: RunLock) {
        self.path = path
        self.manifest = manifest
        self.resumed = resumed
        self.movedAside = movedAside
        self.manifestPath = manifestPath
        self.lock = lock
    }

    /// Creates `path` or reopens it for `manifest`, holding the run's lock until `close()` (or the process ends).
    /// A different manifest on disk is refused with what changed, unless `startNew`, which moves the old run aside
    /// (never deletes it: it holds paid results). `startNew` needs a directory that is one run (`name == nil`).
    public static func open(_ path: String, manifest: Manifest, startNew: Bool = false, name: String? = nil) throws -> RunDirectory {
        let fm = FileManager.default
        try createPrivateDirectory(path)
        let manifestName = name.map { "\($0).manifest.json" } ?? "manifest.json"
        let lockName = name.map { "\($0).lock" } ?? ".lock"
        let manifestPath = path + "/" + manifestName
        var lock = try RunLock.acquire(path + "/" + lockName, purpose: "\(Manifest.stage) run \(name.map { path + "/" + $0 } ?? path)")
        var manifest = manifest
        var movedAside: String? = nil
        var resumed = false
        if let data = fm.contents(atPath: manifestPath) {
            let old: Manifest
            do {
                old = try JSONDecoder().decode(Manifest.self, from: data)
            } catch {
                throw RunDirectoryError(.notARun, "\(manifestPath): not a \(Manifest.stage) manifest "
                    + "(\(JSONLines.describe(error))); use another --out")
            }
            let changes = old.differences(from: manifest)
            if old.fingerprint == manifest.fingerprint || changes.isEmpty {
                resumed = true
                manifest.createdAt = old.createdAt
            } else if startNew && name == nil {
                movedAside = try moveAside(path)
                try createPrivateDirectory(path)
                let fresh = try RunLock.acquire(path + "/" + lockName, purpose: "\(Manifest.stage) run \(path)")
                lock.release()
                lock = fresh
            } else {
                throw RunDirectoryError(.changed, """
                    \(name.map { path + "/" + $0 } ?? path) holds a \(Manifest.stage) run made with a different \
                    configuration, so its results cannot be reused as they are:
                      \(changes.joined(separator: "\n  "))
                    Run the same command as before to resume it, choose another --out, or pass --new to start over \
                    (the old run is moved aside, not deleted).
                    """, changes: changes)
            }
        } else if name == nil, let contents = try? fm.contentsOfDirectory(atPath: path),
                  contents.contains(where: { $0.hasSuffix(".jsonl") }) {
            throw RunDirectoryError(.notARun, "\(path) has JSONL files but no manifest.json; it is not a "
                + "\(Manifest.stage) run (or its manifest was deleted) — choose another --out")
        }
        if manifest.createdAt.isEmpty { manifest.createdAt = ISO8601DateFormatter().string(from: Date()) }
        manifest.fingerprint = manifest.computeFingerprint()
        let encoder = JSONLines.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        try JSONLines.writeAtomically(try encoder.encode(manifest), to: manifestPath)
        return RunDirectory(path: path, manifest: manifest, resumed: resumed, movedAside: movedAside,
                            manifestPath: manifestPath, lock: lock)
    }

    /// The path of a file in the run.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes one output file atomically from `lines` (each one JSON object, no newline).
    public func writeOutput(_ name: String, lines: [Data]) throws {
        var data = Data()
        data.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines {
            data.append(line)
            data.append(0x0A)
        }
        try JSONLines.writeAtomically(data, to: file(name))
    }

    /// Gives the lock up; the directory stays as it is.
    public func close() { lock.release() }

    static func createPrivateDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw DataError(file: path, "exists and is not a directory; choose another --out") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw DataError(file: path, "cannot create the run directory: \(error.localizedDescription)")
        }
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
}
