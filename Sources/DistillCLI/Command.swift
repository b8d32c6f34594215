import Foundation

/// What a command looks like to the parser and to `--help`.
public struct CommandSpec: Sendable {
    public var name: String
    public var abstract: String
    /// The part after `distill NAME` in the usage line, e.g. `--data FILE [options]`.
    public var usage: String
    public var discussion: String
    public var options: [OptionSpec]
    public var subcommands: [any DistillCommand.Type]
    /// Shown last in `--help`, after the options: a few real command lines.
    public var examples: String

    public init(name: String, abstract: String, usage: String = "[options]", discussion: String = "",
                options: [any CommandOption] = [], subcommands: [any DistillCommand.Type] = [], examples: String = "") {
        self.name = name
        self.examples = examples
        self.abstract = abstract
        self.usage = usage
        self.discussion = discussion
        self.options = options.map(\.spec)
        self.subcommands = subcommands
    }
}

/// A command is a type: a spec, an initialiser that parses (so tests can parse in process), and `run()`.
public protocol DistillCommand: SendableMetatype {
    static var spec: CommandSpec { get }
    init(_ args: ParsedArguments) throws
    func run() async throws
}

/// A command that is only a group of subcommands (`distill data stats|split|…`).
public protocol CommandGroup: DistillCommand {}

extension CommandGroup {
    public init(_ args: ParsedArguments) throws {
        throw UsageError("'\(Self.spec.name)' needs a subcommand: "
            + Self.spec.subcommands.map { $0.spec.name }.joined(separator: ", "))
    }
    public func run() async throws {}
}

enum HelpFormatter {
    static func help(for spec: CommandSpec, path: [String]) -> String {
        let full = (["distill"] + path).joined(separator: " ")
        var out = "\(full) — \(spec.abstract)\n\n"
        if spec.subcommands.isEmpty {
            out += "Usage: \(full) \(spec.usage)\n"
        } else {
            // A command that runs and also has subcommands (`distill harvest`, `distill harvest merge`) shows both.
            if spec.usage != "[options]" { out += "Usage: \(full) \(spec.usage)\n   or: \(full) <subcommand> [options]\n\nSubcommands:\n" }
            else { out += "Usage: \(full) <subcommand> [options]\n\nSubcommands:\n" }
            let width = spec.subcommands.map { $0.spec.name.count }.max() ?? 0
            for sub in spec.subcommands {
                out += "  " + sub.spec.name.padding(toLength: width + 3, withPad: " ", startingAt: 0) + sub.spec.abstract + "\n"
            }
            out += "\nSee '\(full) <subcommand> --help'.\n"
        }
        if !spec.discussion.isEmpty { out += "\n" + spec.discussion + "\n" }
        out += "\nOptions:\n"
        do {
            let labels = spec.options.map { o in
                o.kind == .flag ? "--\(o.name)" : "--\(o.name) \(o.valueName)" + (o.kind == .list ? " …" : "")
            }
            let width = min(labels.map(\.count).max() ?? 0, 30)
            for (o, label) in zip(spec.options, labels) {
                var line = "  " + label
                line += label.count < width + 2 ? String(repeating: " ", count: width + 2 - label.count) : "\n" + String(repeating: " ", count: width + 4)
                line += o.help
                if let d = o.defaultValue { line += " (default: \(d.isEmpty ? "\"\"" : d))" }
                out += line + "\n"
            }
        }
        out += "  --help    show this help\n"
        if !spec.examples.isEmpty { out += "\nExamples:\n" + spec.examples + "\n" }
        return out
    }
}
