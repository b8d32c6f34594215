import Foundation
import Testing
@testable import DistillCLI

/// The typed option handles: values parsed when the command line is (bad ones name the option), defaults, flags
/// with `=true|false`, lists, the last value winning; and every command's declarations and `--help` examples.
@Suite struct OptionTests {
    enum Colour: String, CaseIterable, OptionValue { case red, green, blue }

    static let steps: Option<Int> = .value("steps", "N", default: 10_000, shown: "10_000", help: "steps")
    static let lr: Option<Double?> = .value("lr", "X", help: "learning rate")
    static let clip: Option<Double> = .value("clip", "N", default: 1, help: "clip")
    static let colour: Option<Colour> = .value("colour", "C", default: .green, help: "colour")
    static let name: Option<String?> = .value("name", "S", help: "a name")
    static let dryRun: Option<Bool> = .flag("dry-run", help: "count only")
    static let ids: Option<[Int]> = .list("ids", "N", help: "ids")
    static let files: Option<[String]> = .list("files", "FILE", help: "files")
    static let specs: [OptionSpec] = ([steps, lr, clip, colour, name, dryRun, ids, files] as [any CommandOption]).map(\.spec)

    func parse(_ args: [String]) throws(UsageError) -> ParsedArguments { try ParsedArguments(args, specs: Self.specs) }

    func usageMessage(_ args: [String]) -> String? {
        do { _ = try parse(args); return nil } catch { return error.message }
    }

    @Test func defaultsWhenAbsent() throws {
        let p = try parse([])
        #expect(p[Self.steps] == 10_000)
        #expect(p[Self.lr] == nil)
        #expect(p[Self.clip] == 1)
        #expect(p[Self.colour] == .green)
        #expect(p[Self.name] == nil)
        #expect(p[Self.dryRun] == false)
        #expect(p[Self.ids] == [])
        #expect(!p.isSet(Self.steps) && !p.isSet(Self.dryRun))
        // The text a fingerprint records is the default as --help shows it.
        #expect(p.text(Self.steps) == "10_000" && p.text(Self.clip) == "1" && p.text(Self.colour) == "green")
        #expect(p.text(Self.lr) == nil)
        #expect(throws: UsageError("missing required option '--name'")) { try p.required(Self.name) }
    }

    @Test func typedValuesInBothSpellings() throws {
        let p = try parse(["--steps", "2_500", "--lr=1e-4", "--colour", "blue", "--name", "蒸馏 🧪"])
        #expect(p[Self.steps] == 2500)
        #expect(p[Self.lr] == 1e-4)
        #expect(p[Self.colour] == .blue)
        #expect(try p.required(Self.name) == "蒸馏 🧪")
        #expect(p.text(Self.lr) == "1e-4")  // as typed, not re-rendered
        #expect(p.value(Self.steps) == p[Self.steps])
    }

    @Test func badValuesAreUsageErrorsNamingTheOption() {
        #expect(usageMessage(["--steps", "many"]) == "option '--steps' wants an integer, got 'many'")
        #expect(usageMessage(["--steps", "1.5"]) == "option '--steps' wants an integer, got '1.5'")
        #expect(usageMessage(["--lr", "fast"]) == "option '--lr' wants a number, got 'fast'")
        #expect(usageMessage(["--clip=一"]) == "option '--clip' wants a number, got '一'")
        #expect(usageMessage(["--colour", "mauve"]) == "option '--colour' wants one of red, green, blue, got 'mauve'")
        #expect(usageMessage(["--ids", "1", "two"]) == "option '--ids' wants an integer, got 'two'")
        // The first bad value on the line is the one reported.
        #expect(usageMessage(["--lr", "x", "--steps", "y"]) == "option '--lr' wants a number, got 'x'")
    }

    @Test func flagsTakeTrueOrFalseAndTheLastWins() throws {
        #expect(try parse(["--dry-run"])[Self.dryRun])
        #expect(try parse(["--dry-run=true"])[Self.dryRun])
        #expect(try parse(["--dry-run=YES"])[Self.dryRun])
        let off = try parse(["--dry-run=false"])
        #expect(off[Self.dryRun] == false && off.isSet(Self.dryRun))
        #expect(try parse(["--dry-run", "--dry-run=0"])[Self.dryRun] == false)
        #expect(try parse(["--dry-run=no", "--dry-run"])[Self.dryRun])
        #expect(usageMessage(["--dry-run=maybe"]) == "option '--dry-run' is a flag; 'maybe' is not true or false")
    }

    @Test func listsCollectEveryValueInOrder() throws {
        let p = try parse(["--files", "a.jsonl", "b 数据.jsonl", "--dry-run", "--files=c.jsonl", "--ids", "3", "1", "--ids", "2"])
        #expect(p[Self.files] == ["a.jsonl", "b 数据.jsonl", "c.jsonl"])
        #expect(p[Self.ids] == [3, 1, 2])
        #expect(p[Self.dryRun])
        #expect(usageMessage(["--files"]) == "option '--files' needs at least one FILE")
    }

    @Test func theLastValueWins() throws {
        let p = try parse(["--steps", "1", "--lr", "0.1", "--steps=3", "--lr", "0.3", "--colour", "red", "--colour=blue"])
        #expect(p[Self.steps] == 3)
        #expect(p[Self.lr] == 0.3)
        #expect(p[Self.colour] == .blue)
        #expect(p.text(Self.steps) == "3")
    }

    @Test func helpShowsDefaultsAsDeclared() {
        let help = HelpFormatter.help(for: CommandSpec(name: "x", abstract: "y", options: Self.specs), path: ["x"])
        #expect(help.contains("(default: 10_000)"))
        #expect(help.contains("(default: 1)\n"))  // a whole Double prints without ".0"
        #expect(help.contains("(default: green)"))
        #expect(help.contains("--ids N …"))
        #expect(Double(0.05).optionText == "0.05" && Double(900).optionText == "900" && Double(-2).optionText == "-2")
    }

    /// Every command, subcommands included, with its path (`["data", "split"]`).
    static func allCommands() -> [(path: [String], type: any DistillCommand.Type)] {
        var out: [(path: [String], type: any DistillCommand.Type)] = []
        func walk(_ types: [any DistillCommand.Type], _ path: [String]) {
            for t in types {
                out.append((path + [t.spec.name], t))
                walk(t.spec.subcommands, path + [t.spec.name])
            }
        }
        walk(DistillCLI.commands, [])
        return out
    }

    @Test func everyCommandsOptionsAreDistinctAndTheirDefaultsParse() throws {
        for (path, type) in Self.allCommands() {
            let names = type.spec.options.map(\.name)
            #expect(Set(names).count == names.count, "distill \(path.joined(separator: " ")) declares an option twice")
            for o in type.spec.options {
                if let d = o.defaultValue, o.name != "test-size" {  // data split's default is a description
                    do { _ = try o.parse(d) } catch {
                        Issue.record("--\(o.name) of distill \(path.joined(separator: " ")): default '\(d)': \(error.message)")
                    }
                }
            }
        }
    }

    /// Splits an example line as a POSIX shell would, for the simple lines examples use: quotes, backslash escapes,
    /// and a `#` comment after whitespace.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { current.append(c) }
                continue
            }
            switch c {
            case "\\": escaped = true; inWord = true
            case "\"", "'": quote = c; inWord = true
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "#" where !inWord:
                return words
            default: current.append(c); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    @Test func shellWords() {
        #expect(Self.words(#"distill ask --teacher deepseek "用一句话 解释。"   # a comment"#)
            == ["distill", "ask", "--teacher", "deepseek", "用一句话 解释。"])
        #expect(Self.words(#"a 'b c' d\ e --x=#1"#) == ["a", "b c", "d e", "--x=#1"])
    }

    @Test func everyHelpEndsWithExamplesThatParse() throws {
        for (path, type) in Self.allCommands() {
            let name = "distill " + path.joined(separator: " ")
            guard case .help(let help) = try DistillCLI.resolve(path + ["--help"]) else { Issue.record("\(name): no help"); continue }
            #expect(help.hasSuffix(type.spec.examples + "\n") && help.contains("\nExamples:\n"), "\(name) --help ends with examples")
            // Lines ending in a backslash continue on the next.
            let lines = type.spec.examples.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
            var count = 0
            for line in lines {
                var argv = Self.words(String(line))
                while let first = argv.first, first != "distill", first.contains("=") { argv.removeFirst() }  // VAR=value
                guard argv.first == "distill" else { continue }
                count += 1
                argv.removeFirst()
                do {
                    _ = try DistillCLI.resolve(argv)
                } catch let error as UsageError {
                    Issue.record("\(name): example '\(line)' is refused: \(error.message)")
                } catch {
                    // A missing file or model is the example's data, not its syntax.
                }
            }
            #expect(count >= 2, "\(name) --help shows \(count) examples; two or three expected")
        }
    }
}
