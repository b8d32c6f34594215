import Foundation

/// The folder of prompt templates (`prompts/<name>.txt`), so every prompt distill sends can be read and edited.
public struct PromptLibrary: Sendable {
    /// The folder the templates are loaded from.
    public let directory: String

    /// The environment variable that points at a prompt folder (the CLI's `--prompt-dir` wins over it).
    public static let environmentVariable = "DISTILL_PROMPT_DIR"

    /// Opens a prompt folder.
    ///
    /// `directory` nil → search: `$DISTILL_PROMPT_DIR`, then a `prompts/` folder walking up from the executable's
    /// path, then `./prompts`. Throws if the folder given (or every candidate) does not exist.
    public init(directory: String? = nil) throws {
        if let directory {
            guard Self.isDirectory(directory) else {
                throw DataError(file: directory, "prompt folder not found (check --prompt-dir)")
            }
            self.directory = directory
            return
        }
        let candidates = Self.searchPath()
        guard let found = candidates.first(where: Self.isDirectory) else {
            throw DataError(file: "prompts", "no prompt folder found; looked in: "
                + candidates.joined(separator: ", ") + ". Pass --prompt-dir DIR or set \(Self.environmentVariable)")
        }
        self.directory = found
    }

    /// Where `init(directory: nil)` looks, in order.
    public static func searchPath() -> [String] {
        var out: [String] = []
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { out.append(env) }
        var dir = URL(fileURLWithPath: executablePath()).resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" && !dir.path.isEmpty {
            out.append(dir.appendingPathComponent("prompts").path)
            dir = dir.deletingLastPathComponent()
        }
        out.append(FileManager.default.currentDirectoryPath + "/prompts")
        return out
    }

    private static func executablePath() -> String {
        if let p = Bundle.main.executablePath { return p }
        return CommandLine.arguments.first ?? "."
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The path of template `name`.
    public func path(of name: String) -> String { directory + "/" + name + ".txt" }

    /// The names of every template in the folder, sorted.
    public func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Loads `prompts/<name>.txt`.
    public func template(_ name: String) throws -> PromptTemplate {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw DataError(file: directory, "'\(name)' is not a prompt name (a file name without .txt)")
        }
        let file = path(of: name)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DataError(file: file, "prompt '\(name)' not found; this folder has: "
                + (names().isEmpty ? "no .txt files" : names().joined(separator: ", ")))
        }
        if let bad = UTF8Validation.firstInvalidByte(in: data) {
            throw DataError(file: file, line: bad.line, "invalid UTF-8 at byte offset \(bad.offset); save the prompt as UTF-8")
        }
        let text = String(decoding: data, as: UTF8.self)
        if let f = Mojibake.detect(text) {
            throw DataError(file: file, "looks double-encoded (UTF-8 read as Windows-1252): \"\(f.sample)\" would be "
                + "\"\(f.repairedSample)\"; re-save the prompt as UTF-8")
        }
        return try PromptTemplate(name: name, text: text, source: file)
    }

    /// Loads a template and checks it uses exactly the placeholders `expecting`, before any request is sent.
    public func validate(_ name: String, expecting: Set<String>) throws -> PromptTemplate {
        let t = try template(name)
        let have = t.placeholders
        guard have == expecting else {
            var parts: [String] = []
            let missing = expecting.subtracting(have)
            let unknown = have.subtracting(expecting)
            if !missing.isEmpty { parts.append("missing \(PromptTemplate.list(missing))") }
            if !unknown.isEmpty { parts.append("unknown \(PromptTemplate.list(unknown))") }
            throw DataError(file: t.source, "prompt '\(name)' must use exactly \(PromptTemplate.list(expecting)): "
                + parts.joined(separator: "; "))
        }
        return t
    }
}
