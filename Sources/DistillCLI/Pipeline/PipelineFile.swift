import DistillData
import Foundation

/// A pipeline file (`distill run FILE`): every stage of the loop in one JSON file, each stage one `distill` command
/// with its options, so a stage accepts exactly what the command accepts and nothing is silently defaulted.
///
/// ```json
/// {
///   "out": "runs/seed000",
///   "vars": {"teacher": "http://127.0.0.1:8080/v1", "teacher_model": "smollm2"},
///   "services": {"teacher": {"command": "serve", "options": {"model": "smollm2-135m"}}},
///   "stages": [
///     {"name": "harvest", "command": "harvest", "needs": ["teacher"],
///      "options": {"recipe": "answer", "data": "datasets/x.jsonl", "teacher": "${teacher}", "model": "${teacher_model}"}},
///     {"name": "student", "command": "prune", "options": {"model": "smollm2-135m", "keep-every": 2}},
///     {"name": "train", "command": "train", "options": {"model": "@student", "data": "@harvest/answers.jsonl"}}
///   ]
/// }
/// ```
/// - `${NAME}` is a variable from `vars` (change one line to point every stage at another teacher), or
///   `${services.NAME.url}`, the base URL of a service the pipeline starts.
/// - `@STAGE` is that stage's output (its `--out`, which the pipeline sets to `OUT/STAGE`, `OUT/STAGE.jsonl` for
///   `generate`, `OUT/STAGE.gguf` for `prune`); `@STAGE/file` a file inside it. A reference makes the stage depend
///   on the other: its fingerprint includes the other's.
/// - Option values: a string or number is the value; `true` is a flag, `false` leaves it out; an array gives a
///   list option several values. `"args": [...]` are positional arguments.
struct PipelineFile: Sendable {
    struct Stage: Sendable {
        var name: String
        /// Command words, e.g. ["generate"] or ["data", "convert"].
        var command: [String]
        /// Options in file order (the order they are passed in), values unresolved.
        var options: [(key: String, value: JSONValue)]
        var args: [String]
        /// Services this stage talks to (started before it).
        var needs: [String]
        var line: Int?
    }

    struct Service: Sendable {
        var name: String
        var command: [String]
        var options: [(key: String, value: JSONValue)]
        var line: Int?
    }

    var path: String
    var out: String?
    var vars: [(key: String, value: String)]
    var services: [Service]
    var stages: [Stage]

    /// Reads and checks the file's shape; every unknown key is an error naming the key and its line.
    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, "cannot read the pipeline file; check the path")
        }
        let text = String(decoding: data, as: UTF8.self)
        let root: JSONValue
        do {
            root = try JSONValue.parse(data)
        } catch {
            let line = text.utf8.prefix(error.offset).reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            throw DataError(file: path, line: line, "not valid JSON: \(error.message)")
        }
        let locate = KeyLocator(text: text)
        func fail(_ key: String, _ message: String) -> DataError {
            DataError(file: path, line: locate.line(of: key), field: key, message)
        }
        guard case .object(let top) = root else { throw DataError(file: path, line: 1, "a pipeline file is one JSON object") }
        try Self.checkKeys(top, allowed: ["pipeline", "out", "vars", "services", "stages", "description"], in: "the file", fail: fail)

        out = root["out"]?.stringValue
        vars = []
        if let v = root["vars"] {
            guard case .object(let members) = v else { throw fail("vars", "must be an object of NAME: value") }
            for m in members {
                guard let s = Self.scalar(m.value) else { throw fail(m.key, "a variable is a string or a number") }
                vars.append((m.key, s))
            }
        }
        services = []
        if let s = root["services"] {
            guard case .object(let members) = s else { throw fail("services", "must be an object of NAME: {command, options}") }
            for m in members {
                guard case .object(let fields) = m.value else { throw fail(m.key, "a service is {\"command\": …, \"options\": {…}}") }
                try Self.checkKeys(fields, allowed: ["command", "options"], in: "service '\(m.key)'", fail: fail)
                let command = try Self.words(m.value["command"], key: "command", fail: fail)
                services.append(Service(name: m.key, command: command,
                                        options: try Self.options(m.value["options"], fail: fail), line: locate.line(of: m.key)))
            }
        }
        guard case .array(let list)? = root["stages"], !list.isEmpty else {
            throw fail("stages", "give \"stages\": a list of {\"name\", \"command\", \"options\"}")
        }
        stages = []
        var seen = Set<String>()
        for item in list {
            guard case .object(let fields) = item else { throw fail("stages", "each stage is an object") }
            try Self.checkKeys(fields, allowed: ["name", "command", "options", "args", "needs", "description"],
                               in: "a stage", fail: fail)
            guard let name = item["name"]?.stringValue, !name.isEmpty,
                  name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
                throw fail("name", "every stage needs a \"name\" of letters, digits, '-', '_' or '.' (it names its folder)")
            }
            guard seen.insert(name).inserted else { throw fail(name, "two stages are named '\(name)'") }
            let command = try Self.words(item["command"], key: "command", fail: fail)
            var args: [String] = []
            if let a = item["args"] {
                guard case .array(let values) = a else { throw fail("args", "\"args\" is a list of strings") }
                args = try values.map { v in
                    guard let s = Self.scalar(v) else { throw fail("args", "\"args\" is a list of strings") }
                    return s
                }
            }
            var needs: [String] = []
            if let n = item["needs"] {
                guard case .array(let values) = n else { throw fail("needs", "\"needs\" lists service names") }
                needs = values.compactMap(\.stringValue)
                for s in needs where !services.contains(where: { $0.name == s }) {
                    throw fail("needs", "stage '\(name)' needs service '\(s)', which \"services\" does not define")
                }
            }
            stages.append(Stage(name: name, command: command, options: try Self.options(item["options"], fail: fail),
                                args: args, needs: needs, line: locate.line(of: name)))
        }
    }

    private static func checkKeys(_ members: [JSONValue.Member], allowed: [String], in place: String,
                                  fail: (String, String) -> DataError) throws {
        for m in members where !allowed.contains(m.key) {
            throw fail(m.key, "unknown key '\(m.key)' in \(place) (known: \(allowed.joined(separator: ", ")))")
        }
    }

    private static func words(_ v: JSONValue?, key: String, fail: (String, String) -> DataError) throws -> [String] {
        guard let s = v?.stringValue, !s.isEmpty else { throw fail(key, "\"command\" names a distill command, e.g. \"generate\"") }
        return s.split(separator: " ").map(String.init)
    }

    private static func options(_ v: JSONValue?, fail: (String, String) -> DataError) throws -> [(key: String, value: JSONValue)] {
        guard let v else { return [] }
        guard case .object(let members) = v else { throw fail("options", "\"options\" is an object of option: value") }
        return members.map { ($0.key, $0.value) }
    }

    static func scalar(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): s
        case .number(let n): n
        default: nil
        }
    }
}

/// Finds the line of a key in the file's text, for messages (`"key":` — the first occurrence).
struct KeyLocator {
    let text: String

    func line(of key: String) -> Int? {
        let needle = "\"" + key + "\""
        var lineNumber = 1
        var rest = Substring(text)
        while let r = rest.range(of: needle) {
            lineNumber += rest[..<r.lowerBound].reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            let after = rest[r.upperBound...].drop { $0 == " " || $0 == "\t" }
            if after.first == ":" || after.first == "," || after.first == "]" { return lineNumber }
            lineNumber += rest[r.lowerBound..<r.upperBound].reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            rest = rest[r.upperBound...]
        }
        return nil
    }
}
