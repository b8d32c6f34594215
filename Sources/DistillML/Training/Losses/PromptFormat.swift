import DistillData
import Foundation

/// The prompt format a trained model expects, as `distill train` records it in `prompt-format.json` beside its
/// exports (multitask, counterfactual, icl): inference applies the same answer-task prefix the student was trained with.
///
/// Distilling Step-by-Step trains the answer task as `answer_prefix + question`; a student asked the bare question at
/// inference sees a prompt it never saw in training. `generate` and `serve` look the file up with `find(model:adapter:)`
/// and prepend `answerPrefix` to the user's turn.
public struct PromptFormat: Sendable, Equatable {
    public static let fileName = "prompt-format.json"

    /// The objective that wrote it (`multitask`, `counterfactual`, `icl`).
    public var objective: String
    /// Prepended to the user's turn at inference ("" when the objective has none, e.g. icl).
    public var answerPrefix: String
    /// Where it was read from (for messages).
    public var path: String

    public init(objective: String, answerPrefix: String, path: String) {
        self.objective = objective
        self.answerPrefix = answerPrefix
        self.path = path
    }

    /// The user turn as the model was trained to see it.
    public func userTurn(_ text: String) -> String { answerPrefix + text }

    /// One line for stderr: `generate: prompt format from runs/mt/prompt-format.json: answer prefix "predict: " …`.
    public func note(_ command: String) -> String {
        "\(command): prompt format from \(path): answer prefix \(Self.quoted(answerPrefix)) before each question "
            + "(the \(objective) student was trained so; --no-prompt-format turns it off)"
    }

    /// The prompt format for a model (a GGUF file or a folder) and an optional adapter folder, or nil when none is
    /// recorded. Looked for in the adapter folder and its parent (train's `--out`, which holds `adapter/`), then in a
    /// model folder (`hf/`) and its parent, or beside a model file (`model-f32.gguf`). A file with no answer prefix
    /// (icl) gives nil: there is nothing to apply.
    public static func find(model: String, adapter: String?) throws -> PromptFormat? {
        var places: [String] = []
        if let adapter { places += [adapter, parent(adapter)] }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            places += [model, parent(model)]
        } else {
            places.append(parent(model))
        }
        for dir in places {
            let path = (dir as NSString).appendingPathComponent(fileName)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let format = try read(path)
            return format.answerPrefix.isEmpty ? nil : format
        }
        return nil
    }

    /// Reads one `prompt-format.json` (a JSON object of strings: `objective`, `answer_prefix`, …).
    public static func read(_ path: String) throws -> PromptFormat {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, "cannot read the prompt format") }
        guard let value = try? JSONValue.parse(data), case .object = value else {
            throw DataError(file: path, "not a JSON object; it is written by distill train (delete it to use the model without a prompt format)")
        }
        if let prefix = value["answer_prefix"], prefix.stringValue == nil {
            throw DataError(file: path, field: "answer_prefix", "must be a string")
        }
        return PromptFormat(objective: value["objective"]?.stringValue ?? "?", answerPrefix: value["answer_prefix"]?.stringValue ?? "",
                            path: path)
    }

    static func parent(_ path: String) -> String {
        let p = ((path as NSString).standardizingPath as NSString).deletingLastPathComponent
        return p.isEmpty ? "." : p
    }

    public static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
