import DistillData
import Foundation

extension PipelinePlan {
    /// What a stage's duration scales with, for the ETA: its kind (command, and recipe or scoring mode) and its units
    /// of work (items it reads × passes), or nil while its input does not exist yet.
    func work(of stage: PipelineFile.Stage) -> (kind: String, units: Double?) {
        let command = stage.command.joined(separator: " ")
        func value(_ key: String) -> String? {
            stage.options.last { $0.key == key }.flatMap { PipelineFile.scalar($0.value) }
        }
        func files(_ key: String) -> [String] {
            guard let v = stage.options.last(where: { $0.key == key })?.value else { return [] }
            let raw: [String] = if case .array(let items) = v { items.compactMap(PipelineFile.scalar) } else { PipelineFile.scalar(v).map { [$0] } ?? [] }
            return raw.compactMap { try? resolve($0, line: stage.line, what: stage.name, symbolic: false) }
        }
        func items(_ paths: [String]) -> Double? {
            var total = 0
            for p in paths {
                guard let n = Self.lineCount(p) else { return nil }
                total += n
            }
            return paths.isEmpty ? nil : Double(total)
        }
        switch command {
        case "harvest":
            let recipe = value("recipe") ?? "answer"
            if recipe == "generate-data" { return ("harvest generate-data", value("num-samples").flatMap(Double.init)) }
            let paths = value("paths").flatMap(Double.init) ?? 1
            return ("harvest " + recipe, items(files("data")).map { $0 * paths })
        case "train":
            let epochs = value("epochs").flatMap(Double.init) ?? 3
            return ("train" + (stage.options.contains { $0.key == "full" && $0.value == .bool(true) } ? " full" : " lora"),
                    items(files("data")).map { $0 * epochs })
        case "generate":
            let n = items(files("data"))
            return ("generate", value("limit").flatMap(Double.init).map { min($0, n ?? $0) } ?? n)
        case "score":
            return ("score", items(files("data")))
        case "judge":
            let mode = value("score") ?? "judge"
            let repeats = value("repeats").flatMap(Double.init) ?? 1
            return ("judge " + mode, items(files("inputs")).map { $0 * repeats })
        default:
            return (command, 1)
        }
    }

    /// Non-empty lines of a JSONL file (one item each), or nil when it cannot be read.
    static func lineCount(_ path: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var count = 0, blank = true
        for b in data {
            if b == 0x0A {
                if !blank { count += 1 }
                blank = true
            } else if b != 0x20 && b != 0x09 && b != 0x0D {
                blank = false
            }
        }
        return count + (blank ? 0 : 1)
    }
}
