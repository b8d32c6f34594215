import DistillData
import Foundation

/// A pipeline file resolved against its output folder: each stage's argument list and its fingerprint inputs.
///
/// A stage's fingerprint covers its command and options as written (variables substituted, service URLs kept
/// symbolic so a new port does not count as a change), the content of every input file it names, its services'
/// configuration, and the fingerprints of the stages it references — so changing one stage re-runs that stage and
/// everything downstream, and nothing else. Stage outputs are a function of their fingerprint (same inputs and
/// seed, same bytes), which is what makes an upstream fingerprint a sound stand-in for its output.
struct PipelinePlan {
    let file: PipelineFile
    let out: String
    /// Base URL per service, fixed for this invocation.
    var serviceURLs: [String: String]
    /// Content hashes of input files, kept while no stage runs (several stages often read one dataset or model);
    /// cleared after each stage that runs, since a stage may write a file a later one reads.
    let hashes = HashCache()

    final class HashCache {
        private var byPath: [String: String] = [:]
        func hash(_ path: String, isDirectory: Bool) throws -> String {
            if let h = byPath[path] { return h }
            let h = try PipelinePlan.contentHash(path, isDirectory: isDirectory)
            byPath[path] = h
            return h
        }
        func clear() { byPath = [:] }
    }

    /// Where a stage's `--out` goes, by command (a file for the commands that write one file).
    static func outputPath(for stage: PipelineFile.Stage, in out: String) -> String {
        switch stage.command.joined(separator: " ") {
        case "generate", "score", "data convert", "data synth": "\(out)/\(stage.name).jsonl"
        case "score compare": "\(out)/\(stage.name).md"
        case "prune": "\(out)/\(stage.name).gguf"
        default: "\(out)/\(stage.name)"
        }
    }

    /// The command's declared options, or a located error when the stage names an unknown command or option.
    func spec(for words: [String], line: Int?, what: String) throws -> CommandSpec {
        var level = DistillCLI.commands
        var found: (any DistillCommand.Type)?
        for w in words {
            guard let next = level.first(where: { $0.spec.name == w }) else {
                throw DataError(file: file.path, line: line, field: "command",
                                "\(what): unknown command '\(words.joined(separator: " "))'")
            }
            found = next
            level = next.spec.subcommands
        }
        guard let found else { throw DataError(file: file.path, line: line, field: "command", "\(what): no command") }
        return found.spec
    }

    /// `--key value …` for one stage or service; `symbolic` keeps `${services.x.url}` and `@stage` unresolved (for
    /// fingerprints). Unknown options and values of the wrong kind are located errors.
    func arguments(words: [String], options: [(key: String, value: JSONValue)], args: [String], outPath: String?,
                   line: Int?, what: String, symbolic: Bool) throws -> [String] {
        let spec = try spec(for: words, line: line, what: what)
        var argv = words
        var setOut = false
        for (key, value) in options {
            guard let option = spec.options.first(where: { $0.name == key }) else {
                let known = spec.options.map(\.name).sorted().joined(separator: ", ")
                throw DataError(file: file.path, line: KeyLocator(text: fileText).line(of: key), field: key,
                                "\(what): '\(words.joined(separator: " "))' has no option '--\(key)' (known: \(known))")
            }
            if key == "out" { setOut = true }
            switch (option.kind, value) {
            case (.flag, .bool(let on)):
                if on { argv.append("--" + key) }
            case (.flag, _):
                throw DataError(file: file.path, line: KeyLocator(text: fileText).line(of: key), field: key,
                                "\(what): '--\(key)' is a flag; write true or false")
            case (.list, .array(let items)):
                argv.append("--" + key)
                for item in items {
                    guard let s = PipelineFile.scalar(item) else {
                        throw DataError(file: file.path, line: KeyLocator(text: fileText).line(of: key), field: key,
                                        "\(what): the values of '--\(key)' are strings or numbers")
                    }
                    argv.append(try resolve(s, line: line, what: what, symbolic: symbolic))
                }
            case (_, _):
                guard let s = PipelineFile.scalar(value) else {
                    throw DataError(file: file.path, line: KeyLocator(text: fileText).line(of: key), field: key,
                                    "\(what): '--\(key)' takes a string or a number\(option.kind == .list ? " (or a list)" : "")")
                }
                argv += ["--" + key, try resolve(s, line: line, what: what, symbolic: symbolic)]
            }
        }
        for a in args { argv.append(try resolve(a, line: line, what: what, symbolic: symbolic)) }
        if !setOut, let outPath, spec.options.contains(where: { $0.name == "out" }) { argv += ["--out", outPath] }
        return argv
    }

    var fileText: String { String(decoding: FileManager.default.contents(atPath: file.path) ?? Data(), as: UTF8.self) }

    /// Substitutes `${var}`, `${services.NAME.url}` and a leading `@stage[/path]`.
    func resolve(_ s: String, line: Int?, what: String, symbolic: Bool) throws -> String {
        var text = s
        if text.hasPrefix("@") {
            let ref = text.dropFirst()
            let name = String(ref.prefix { $0 != "/" })
            guard let stage = file.stages.first(where: { $0.name == name }) else {
                throw DataError(file: file.path, line: line, "\(what): '\(s)' refers to no stage named '\(name)'")
            }
            let rest = ref.dropFirst(name.count)
            text = symbolic ? "@\(name)\(rest)" : Self.outputPath(for: stage, in: out) + rest
        }
        while let open = text.range(of: "${") {
            guard let close = text[open.upperBound...].firstIndex(of: "}") else {
                throw DataError(file: file.path, line: line, "\(what): '\(s)' has '${' without '}'")
            }
            let name = String(text[open.upperBound..<close])
            let value: String
            if name.hasPrefix("services.") && name.hasSuffix(".url") {
                let service = String(name.dropFirst("services.".count).dropLast(".url".count))
                guard let url = serviceURLs[service] else {
                    throw DataError(file: file.path, line: line, "\(what): '${\(name)}' names no service in \"services\"")
                }
                value = symbolic ? "<service \(service)>" : url
            } else if let v = file.vars.last(where: { $0.key == name }) {
                value = v.value
            } else {
                throw DataError(file: file.path, line: line, "\(what): '${\(name)}' is not defined in \"vars\" "
                    + "(defined: \(file.vars.map(\.key).joined(separator: ", ")))")
            }
            text.replaceSubrange(open.lowerBound...close, with: value)
        }
        return text
    }

    /// Stages referenced by `@name` in a stage's options or arguments.
    func references(of stage: PipelineFile.Stage) -> [String] {
        let values = stage.options.flatMap { o -> [String] in
            if case .array(let items) = o.value { return items.compactMap(PipelineFile.scalar) }
            return PipelineFile.scalar(o.value).map { [$0] } ?? []
        } + stage.args
        var names: [String] = []
        for v in values where v.hasPrefix("@") {
            let name = String(v.dropFirst().prefix { $0 != "/" })
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// What decides a stage's results, as named values: its arguments (symbolic), the content hash of each input
    /// file outside the pipeline folder, its services' configuration and the fingerprints of referenced stages.
    func fingerprintInputs(_ stage: PipelineFile.Stage, upstream: [String: String]) throws -> [String: String] {
        let argv = try arguments(words: stage.command, options: stage.options, args: stage.args, outPath: nil,
                                 line: stage.line, what: "stage '\(stage.name)'", symbolic: true)
        // One value per option, so a change reads "--max-tokens: 64 → 128", not a whole command line.
        var values: [String: String] = ["command": stage.command.joined(separator: " ")]
        var key = "arguments"
        for word in argv.dropFirst(stage.command.count) {
            if word.hasPrefix("--") {
                key = word
                values[key] = values[key] ?? "true"
            } else {
                if let old = values[key], old != "true" { values[key] = old + " " + word } else { values[key] = word }
            }
        }
        let resolved = try arguments(words: stage.command, options: stage.options, args: stage.args, outPath: nil,
                                     line: stage.line, what: "stage '\(stage.name)'", symbolic: false)
        let outPrefix = URL(fileURLWithPath: out).standardizedFileURL.path + "/"
        for value in Set(resolved) where !value.hasPrefix("-") {
            let full = URL(fileURLWithPath: value).standardizedFileURL.path
            guard !full.hasPrefix(outPrefix) else { continue }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: value, isDirectory: &isDir) else { continue }
            values["file \(value)"] = try hashes.hash(value, isDirectory: isDir.boolValue)
        }
        for service in stage.needs {
            if let s = file.services.first(where: { $0.name == service }) {
                let argv = try arguments(words: s.command, options: s.options, args: [], outPath: nil, line: s.line,
                                         what: "service '\(s.name)'", symbolic: true)
                values["service \(service)"] = argv.joined(separator: " ")
            }
        }
        for name in references(of: stage) { values["stage \(name)"] = upstream[name] ?? "(not run)" }
        return values
    }

    static func fingerprint(_ values: [String: String]) -> String {
        SHA256.hex((try? JSONLines.encoder.encode(values)) ?? Data())
    }

    /// SHA-256 of a file, or of a directory's regular files (names and contents, in sorted order).
    static func contentHash(_ path: String, isDirectory: Bool) throws -> String {
        guard isDirectory else { return try SHA256.hex(fileAt: path) }
        let files = (FileManager.default.subpaths(atPath: path) ?? []).sorted()
        var listing = ""
        for f in files {
            var d: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path + "/" + f, isDirectory: &d), !d.boolValue else { continue }
            listing += f + " " + (try SHA256.hex(fileAt: path + "/" + f)) + "\n"
        }
        return SHA256.hex(Data(listing.utf8))
    }
}
