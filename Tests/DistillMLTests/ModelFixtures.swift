import Foundation

/// Where tests find the embedded default model and committed fixtures; tests that need the 98 MB model skip when absent.
enum ModelFixtures {
    static var smolLM2Path: String? {
        let env = ProcessInfo.processInfo.environment
        var dirs: [String] = []
        if let d = env["DISTILL_MODEL_DIR"] { dirs.append(d) }
        dirs.append(NSHomeDirectory() + "/.cache/distill/models")
        dirs.append("/root/.cache/distill/models")
        for d in dirs {
            let p = d + "/SmolLM2-135M-Instruct.Q4_1.gguf"
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }

    static var hasSmolLM2: Bool { smolLM2Path != nil }

    /// `Tests/DistillMLTests/Fixtures/` in the source tree.
    static let fixturesDir: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    static func temporaryPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-ml-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }
}
