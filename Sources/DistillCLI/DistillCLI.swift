import Foundation

/// The `distill` command line: finds the command, parses its options, runs it, maps errors to exit codes.
/// Exit codes: 0 ok, 1 failure, 64 usage error. Messages go to stderr as `distill: …`.
public enum DistillCLI {
    public static let version = "0.1.0"

    /// Every top-level command, in the order `distill help` lists them.
    public static let commands: [any DistillCommand.Type] = [
        HarvestCommand.self,
        TrainCommand.self,
        PruneCommand.self,
        GenerateCommand.self,
        ScoreCommand.self,
        JudgeCommand.self,
        ReportCommand.self,
        ServeCommand.self,
        AskCommand.self,
        DataCommand.self,
        ModelsCommand.self,
        BenchCommand.self,
        RunCommand.self,
        DemoCommand.self,
    ]

    static let rootSpec = CommandSpec(
        name: "", abstract: "distil a teacher model behind an OpenAI-compatible API into a small local student",
        discussion: """
        The loop: harvest teacher data → train a student → generate on a test set → judge and report.
        Every stage reads and writes files, so each can run alone, resume, or be swapped for another tool.
        API keys are read from environment variables named by --key-env; they are never printed or written.
        """,
        subcommands: commands)

    public enum Outcome: Equatable, Sendable {
        case success
        case failure
        case usage
        public var code: Int32 {
            switch self {
            case .success: 0
            case .failure: 1
            case .usage: 64
            }
        }
    }

    /// The result of resolving argv to a command: either help text to print or a parsed command to run.
    public enum Resolution {
        case help(String)
        case version
        case command(any DistillCommand, path: [String])
    }

    /// Resolves and parses without running; tests use this to check parsing in process.
    public static func resolve(_ argv: [String]) throws -> Resolution {
        var args = argv
        if args.first == "--version" { return .version }
        if args.isEmpty || args.first == "--help" || args.first == "-h" {
            return .help(HelpFormatter.help(for: rootSpec, path: []))
        }
        if args.first == "help" {
            args.removeFirst()
            guard !args.isEmpty else { return .help(HelpFormatter.help(for: rootSpec, path: [])) }
            args.append("--help")
        }
        var level: [any DistillCommand.Type] = commands
        var path: [String] = []
        var type: (any DistillCommand.Type)? = nil
        // Descend while the next word names a subcommand; a command may both run and have subcommands
        // (`distill harvest …` and `distill harvest merge …`).
        while let next = args.first, let found = level.first(where: { $0.spec.name == next }) {
            args.removeFirst()
            path.append(next)
            type = found
            level = found.spec.subcommands
        }
        guard let type else {
            let name = args.first ?? ""
            throw UsageError("unknown command '\(name)'; commands: " + commands.map { $0.spec.name }.joined(separator: ", "))
        }
        if args.contains("--help") || args.contains("-h") {
            let beforeDashDash = args.prefix { $0 != "--" }
            if beforeDashDash.contains("--help") || beforeDashDash.contains("-h") {
                return .help(HelpFormatter.help(for: type.spec, path: path))
            }
        }
        if type is any CommandGroup.Type {
            let names = type.spec.subcommands.map { $0.spec.name }.joined(separator: ", ")
            if let first = args.first {
                throw UsageError("unknown subcommand '\(first)' for '\(path.joined(separator: " "))'; one of: \(names)")
            }
            throw UsageError("'\(path.joined(separator: " "))' needs a subcommand: \(names)")
        }
        let parsed = try ParsedArguments(args, specs: type.spec.options)
        return .command(try type.init(parsed), path: path)
    }

    /// Runs `distill` with `argv` (without the program name) and returns the exit code.
    public static func main(_ argv: [String]) async -> Int32 {
        do {
            switch try resolve(argv) {
            case .help(let text):
                FileHandle.standardOutput.write(Data(text.utf8))
                return Outcome.success.code
            case .version:
                print("distill \(version)")
                return Outcome.success.code
            case .command(let command, _):
                try await command.run()
                return Outcome.success.code
            }
        } catch let stopped as StoppedBySignal {
            printError(stopped.message)
            return stopped.exitCode
        } catch let error as any ExitCodeError {
            printError(String(describing: error))
            return error.exitCode
        } catch let error as UsageError {
            let hint = usageHint(argv)
            printError("\(error.message)\(hint)")
            return Outcome.usage.code
        } catch {
            printError(String(describing: error))
            return Outcome.failure.code
        }
    }

    private static func usageHint(_ argv: [String]) -> String {
        let words = argv.prefix { !$0.hasPrefix("-") }
        return "\nSee 'distill \(words.isEmpty ? "" : words.joined(separator: " ") + " ")--help'."
    }

    /// Writes `distill: message` to stderr.
    /// (An error that carries its own exit code — 130 after Ctrl-C — conforms to `ExitCodeError`.)
    public static func printError(_ message: String) {
        FileHandle.standardError.write(Data("distill: \(message)\n".utf8))
    }
}

/// An error that decides the process's exit code itself (e.g. 130 for a run stopped by Ctrl-C).
public protocol ExitCodeError: Error, CustomStringConvertible {
    var exitCode: Int32 { get }
}
