import Foundation

/// A usage mistake: wrong, missing or unknown option. The CLI prints it with the command's usage line and exits 64.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One option a command accepts, type-erased: what the parser and `--help` need. Commands declare options as typed
/// `Option<Value>` handles and read them back through those; this is the form they are listed and parsed in.
/// Defaults are strings so `--help` can print them exactly as a user would type them.
public struct OptionSpec: Sendable {
    public enum Kind: Sendable {
        /// `--name` alone, or `--name=true|false`; no value.
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
    /// Turns one value as typed into the option's value type (an element, for a list); the error names the option.
    let parse: @Sendable (String) throws(UsageError) -> any Sendable
    /// The type `parse` returns, so a handle of another type reading this option is caught.
    let valueType: ObjectIdentifier

    init<T: OptionValue>(name: String, kind: Kind, valueName: String, defaultValue: String?, help: String, _: T.Type) {
        self.name = name
        self.kind = kind
        self.valueName = valueName
        self.defaultValue = defaultValue
        self.help = help
        self.valueType = ObjectIdentifier(T.self)
        self.parse = { (text: String) throws(UsageError) -> any Sendable in
            guard let v = T(optionText: text) else { throw UsageError("option '--\(name)' wants \(T.expected), got '\(text)'") }
            return v
        }
    }
}

/// Anything a command lists as an option: a typed handle or its type-erased spec.
public protocol CommandOption: Sendable {
    var spec: OptionSpec { get }
}

extension OptionSpec: CommandOption {
    public var spec: OptionSpec { self }
}

extension CommandOption {
    /// The option's name, without the dashes.
    public var name: String { spec.name }
}

/// A value an option can hold: parsed from the text typed on the command line, shown in `--help` as a default.
public protocol OptionValue: Sendable {
    /// nil when `optionText` is not a value of this type; the parser then says the option wants `expected`.
    init?(optionText: String)
    /// What a valid value is, for the error message: "an integer", "one of a, b".
    static var expected: String { get }
    /// The value as a user would type it (for `--help` defaults).
    var optionText: String { get }
}

extension String: OptionValue {
    public init?(optionText: String) { self = optionText }
    public static var expected: String { "a value" }
    public var optionText: String { self }
}

extension Int: OptionValue {
    /// Digits may be grouped with `_` (`--steps 10_000`).
    public init?(optionText: String) { self.init(optionText.replacingOccurrences(of: "_", with: "")) }
    public static var expected: String { "an integer" }
    public var optionText: String { String(self) }
}

extension Double: OptionValue {
    public init?(optionText: String) { self.init(optionText) }
    public static var expected: String { "a number" }
    /// Whole numbers without the `.0` (`1`, not `1.0`).
    public var optionText: String {
        rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}

extension Bool: OptionValue {
    public init?(optionText: String) {
        switch optionText.lowercased() {
        case "true", "1", "yes": self = true
        case "false", "0", "no": self = false
        default: return nil
        }
    }
    public static var expected: String { "true or false" }
    public var optionText: String { self ? "true" : "false" }
}

/// A closed set of words (`--icl-mode same-task|mixed`): conform a `String`-backed `CaseIterable` enum.
extension OptionValue where Self: RawRepresentable & CaseIterable, RawValue == String {
    public init?(optionText: String) { self.init(rawValue: optionText) }
    public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
    public var optionText: String { rawValue }
}

/// A typed option: declared once (name, value name, default, help, type) and read back as `Value`, so a misspelt
/// option cannot compile. `Value` is what reading gives: `Bool` for a flag, `T` for a value with a default, `T?` for
/// one without, `[T]` for a list. Values are parsed when the command line is, so a bad one is a usage error (exit 64)
/// before the command starts.
public struct Option<Value: Sendable>: CommandOption {
    public let spec: OptionSpec
    /// What reading gives when the option is not on the command line.
    let absent: Value
    /// The value from the parsed values given (at least one; a value option reads the last).
    let read: @Sendable ([any Sendable]) -> Value?
}

extension Option where Value == Bool {
    /// `--name` (or `--name=true|false`, the last one winning); false when absent.
    public static func flag(_ name: String, help: String) -> Option<Bool> {
        Option(spec: OptionSpec(name: name, kind: .flag, valueName: "", defaultValue: nil, help: help, Bool.self),
               absent: false, read: { $0.last as? Bool })
    }
}

extension Option where Value: OptionValue {
    /// `--name VALUE` with a default; `shown` is the default as `--help` prints it, when not `default.optionText`.
    public static func value(_ name: String, _ valueName: String, default value: Value, shown: String? = nil,
                             help: String) -> Option<Value> {
        Option(spec: OptionSpec(name: name, kind: .value, valueName: valueName, defaultValue: shown ?? value.optionText,
                                help: help, Value.self),
               absent: value, read: { $0.last as? Value })
    }
}

extension Option {
    /// `--name VALUE` with no default: nil when absent.
    public static func value<T: OptionValue>(_ name: String, _ valueName: String, help: String) -> Option<T?> where Value == T? {
        Option<T?>(spec: OptionSpec(name: name, kind: .value, valueName: valueName, defaultValue: nil, help: help, T.self),
                   absent: nil, read: { values in (values.last as? T).map { .some($0) } })
    }

    /// `--name A B …` or repeated `--name A --name B`: every value, in order; empty when absent.
    public static func list<T: OptionValue>(_ name: String, _ valueName: String, help: String) -> Option<[T]> where Value == [T] {
        Option<[T]>(spec: OptionSpec(name: name, kind: .list, valueName: valueName, defaultValue: nil, help: help, T.self),
                    absent: [], read: { values in values.compactMap { $0 as? T } })
    }
}

/// The result of parsing: option values (parsed to their types) and positional arguments.
/// Read an option through its handle: `args[Self.temperature]`.
public struct ParsedArguments: Sendable {
    public let specs: [OptionSpec]
    /// Each option given, by name (without the dashes): the values as typed, and parsed.
    private var given: [String: (text: [String], parsed: [any Sendable])] = [:]
    public private(set) var positionals: [String] = []

    /// Parses `args` against `specs`. `--` ends options; unknown options and values of the wrong type are rejected.
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
                var on = true
                if let inline {
                    guard let b = Bool(optionText: inline) else {
                        throw UsageError("option '--\(name)' is a flag; '\(inline)' is not true or false")
                    }
                    on = b
                }
                given[name] = (text: [on.optionText], parsed: [on])
            case .value:
                let text: String
                if let inline {
                    text = inline
                } else {
                    guard i < args.count, !isOption(args[i]) else {
                        throw UsageError("option '--\(name)' needs a value (\(spec.valueName))")
                    }
                    text = args[i]
                    i += 1
                }
                given[name] = (text: [text], parsed: [try spec.parse(text)])
            case .list:
                var got: [String] = []
                if let inline { got.append(inline) }
                while inline == nil, i < args.count, !isOption(args[i]) {
                    got.append(args[i])
                    i += 1
                }
                guard !got.isEmpty else { throw UsageError("option '--\(name)' needs at least one \(spec.valueName)") }
                var parsed: [any Sendable] = []
                for text in got { parsed.append(try spec.parse(text)) }
                given[name, default: (text: [], parsed: [])].text += got
                given[name, default: (text: [], parsed: [])].parsed += parsed
            }
        }
    }

    private func isOption(_ s: String) -> Bool { s.hasPrefix("--") && s.count > 2 }

    /// The value given, else the option's default (nil, false or empty when it has none).
    public subscript<Value>(option: Option<Value>) -> Value {
        guard declared(option.spec), let values = given[option.name]?.parsed, !values.isEmpty else { return option.absent }
        return option.read(values) ?? option.absent
    }

    /// The same as `args[option]`.
    public func value<Value>(_ option: Option<Value>) -> Value { self[option] }

    /// The value given; a usage error naming the option when it is absent.
    public func required<T>(_ option: Option<T?>) throws(UsageError) -> T {
        guard let v = self[option] else { throw UsageError("missing required option '--\(option.name)'") }
        return v
    }

    /// Whether the option is on the command line (a flag given as `--name=false` counts).
    public func isSet(_ option: any CommandOption) -> Bool {
        declared(option.spec) && given[option.name] != nil
    }

    /// The value as typed on the command line, else the default as `--help` shows it: what run fingerprints record,
    /// so `--temperature 0.70` stays what the user wrote. For a list, the last value; for a flag, true or false.
    public func text(_ option: any CommandOption) -> String? {
        guard declared(option.spec) else { return nil }
        return given[option.name]?.text.last ?? option.spec.defaultValue
    }

    /// Rejects positional arguments beyond `max`.
    public func positionals(max: Int) throws(UsageError) -> [String] {
        guard positionals.count <= max else {
            throw UsageError("unexpected argument '\(positionals[max])'")
        }
        return positionals
    }

    /// Reading an option the command never declared (or declared with another type) is a bug in the command: it
    /// would run silently with the default. Debug builds (the test suite) stop at once; release builds say so on stderr.
    private func declared(_ spec: OptionSpec) -> Bool {
        if specs.contains(where: { $0.name == spec.name && $0.valueType == spec.valueType && $0.kind == spec.kind }) { return true }
        let message = "internal error: option '--\(spec.name)' is read but this command does not declare it"
            + (specs.contains { $0.name == spec.name } ? " with that type" : "")
        assertionFailure(message)
        FileHandle.standardError.write(Data(("distill: " + message + "\n").utf8))
        return false
    }
}
