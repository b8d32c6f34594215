import Foundation

/// A usage mistake: wrong, missing or unknown option. The CLI prints it with the command's usage line and exits 64.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One option a command accepts. Defaults are strings so `--help` can print them exactly as a user would type them.
public struct OptionSpec: Sendable {
    public enum Kind: Sendable {
        /// `--name` alone; no value.
        case flag
        /// `--name VALUE` or `--name=VALUE`; the last one given wins.
        case value
        /// `--name A B C` (values up to the next option) or repeated `--name A --name B`.
        case list
    }

    public var name: String
    public var kind: Kind
    public var valueName: String
    public var defaultValue: String?
    public var help: String

    public static func flag(_ name: String, help: String) -> OptionSpec {
        OptionSpec(name: name, kind: .flag, valueName: "", defaultValue: nil, help: help)
    }

    public static func value(_ name: String, _ valueName: String, default defaultValue: String? = nil, help: String) -> OptionSpec {
        OptionSpec(name: name, kind: .value, valueName: valueName, defaultValue: defaultValue, help: help)
    }

    public static func list(_ name: String, _ valueName: String, help: String) -> OptionSpec {
        OptionSpec(name: name, kind: .list, valueName: valueName, defaultValue: nil, help: help)
    }
}

/// The result of parsing: option values by name (without the dashes) and positional arguments.
/// Accessors apply the defaults declared in the command's `OptionSpec`s.
public struct ParsedArguments: Sendable {
    public let specs: [OptionSpec]
    public private(set) var values: [String: [String]] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    /// Parses `args` against `specs`. `--` ends options; unknown options are rejected.
    public init(_ args: [String], specs: [OptionSpec]) throws(UsageError) {
        self.specs = specs
        let byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        var optionsEnded = false
        while i < args.count {
            let arg = args[i]
            i += 1
            if optionsEnded || !arg.hasPrefix("--") || arg == "-" {
                positionals.append(arg)
                continue
            }
            if arg == "--" { optionsEnded = true; continue }
            var name = String(arg.dropFirst(2))
            var inline: String? = nil
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = byName[name] else {
                let known = specs.map { "--" + $0.name }.sorted().joined(separator: ", ")
                throw UsageError("unknown option '--\(name)'" + (known.isEmpty ? "" : " (known: \(known))"))
            }
            switch spec.kind {
            case .flag:
                if let inline {
                    switch inline.lowercased() {
                    case "true", "1", "yes": flags.insert(name)
                    case "false", "0", "no": flags.remove(name)
                    default: throw UsageError("option '--\(name)' is a flag; '\(inline)' is not true or false")
                    }
                } else {
                    flags.insert(name)
                }
            case .value:
                if let inline {
                    values[name] = [inline]
                } else {
                    guard i < args.count, !isOption(args[i]) else {
                        throw UsageError("option '--\(name)' needs a value (\(spec.valueName))")
                    }
                    values[name] = [args[i]]
                    i += 1
                }
            case .list:
                var got: [String] = []
                if let inline { got.append(inline) }
                while inline == nil, i < args.count, !isOption(args[i]) {
                    got.append(args[i])
                    i += 1
                }
                guard !got.isEmpty else { throw UsageError("option '--\(name)' needs at least one \(spec.valueName)") }
                values[name, default: []].append(contentsOf: got)
            }
        }
    }

    private func isOption(_ s: String) -> Bool { s.hasPrefix("--") && s.count > 2 }

    /// The declared option `name`. Reading a name the command never declared is a bug in the command (a misspelt
    /// name would otherwise run silently with no value): debug builds (the test suite) stop at once, release builds
    /// say so on stderr.
    private func spec(_ name: String) -> OptionSpec? {
        if let s = specs.first(where: { $0.name == name }) { return s }
        Self.undeclared(name)
        return nil
    }

    private static func undeclared(_ name: String) {
        let message = "internal error: option '--\(name)' is read but this command does not declare it"
        assertionFailure(message)
        FileHandle.standardError.write(Data(("distill: " + message + "\n").utf8))
    }

    /// The value given, else the declared default, else nil.
    public func string(_ name: String) -> String? {
        values[name]?.last ?? spec(name)?.defaultValue
    }

    /// The value given or defaulted; a usage error if neither.
    public func required(_ name: String) throws(UsageError) -> String {
        guard let v = string(name) else { throw UsageError("missing required option '--\(name)'") }
        return v
    }

    public func isSet(_ name: String) -> Bool { _ = spec(name); return flags.contains(name) || values[name] != nil }

    public func flag(_ name: String) -> Bool { _ = spec(name); return flags.contains(name) }

    public func list(_ name: String) -> [String] { _ = spec(name); return values[name] ?? [] }

    public func int(_ name: String) throws(UsageError) -> Int? {
        guard let s = string(name) else { return nil }
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw UsageError("option '--\(name)' wants an integer, got '\(s)'")
        }
        return v
    }

    public func double(_ name: String) throws(UsageError) -> Double? {
        guard let s = string(name) else { return nil }
        guard let v = Double(s) else { throw UsageError("option '--\(name)' wants a number, got '\(s)'") }
        return v
    }

    /// Rejects positional arguments beyond `max`.
    public func positionals(max: Int) throws(UsageError) -> [String] {
        guard positionals.count <= max else {
            throw UsageError("unexpected argument '\(positionals[max])'")
        }
        return positionals
    }
}
