import DistillData
import DistillClient
import Foundation

extension Rubric {
    /// The reply the rubric asks for, as the prompt shows it: reason first (the judge reasons before it scores), then one
    /// integer per criterion. Placeholders like `<0-5>` are deliberately not JSON, so an echoed example is never a score.
    public var replyFormat: String {
        let range = "<\(scale.lowerBound)-\(scale.upperBound)>"
        return "{\"reason\": \"<one or two sentences>\", "
            + criteria.map { "\"\($0.name)\": \(range)" }.joined(separator: ", ") + "}"
    }

    /// The criteria as a numbered list with their descriptions.
    public var criteriaList: String {
        criteria.enumerated().map { i, c in
            "\(i + 1). **\(c.name)**" + (c.description.isEmpty ? "" : ": \(c.description)")
        }.joined(separator: "\n")
    }

    /// The system and user messages for one generation.
    public func messages(for item: GenerationRecord) throws -> [ChatMessage] {
        let systemText = try system.render([
            "criteria": criteriaList, "scale_min": String(scale.lowerBound), "scale_max": String(scale.upperBound),
            "reply_format": replyFormat,
        ], allowUnused: true)
        let userText = try user.render([
            "instruction": item.instruction, "input": item.input,
            "reference_output": item.referenceOutput, "generate_output": item.generateOutput,
        ], allowUnused: true)
        return [.system(systemText), .user(userText)]
    }

    /// The JSON Schema for `response_format: json_schema`: `reason` first, each score an `enum` of the scale's integers
    /// (portable where `minimum`/`maximum` are not, e.g. llama.cpp grammars), all required, nothing else allowed.
    /// Written by hand so the key order — reason first — survives.
    public var jsonSchema: String {
        let values = scale.map(String.init).joined(separator: ",")
        let props = ["\"reason\":{\"type\":\"string\"}"]
            + criteria.map { "\(jsonString($0.name)):{\"type\":\"integer\",\"enum\":[\(values)]}" }
        let required = (["reason"] + criteria.map(\.name)).map(jsonString).joined(separator: ",")
        return "{\"type\":\"object\",\"properties\":{\(props.joined(separator: ","))},\"required\":[\(required)],\"additionalProperties\":false}"
    }

    /// The message for the repair turn: what was wrong, and the exact shape wanted.
    public func repairMessage(problems: [VerdictProblem]) -> String {
        let listed = problems.prefix(6).map { "- \($0.description)" }.joined(separator: "\n")
        return """
        Your reply could not be used as a verdict:
        \(listed)
        Reply again with only this JSON object and nothing else, every score an integer from \(scale.lowerBound) to \(scale.upperBound):
        \(replyFormat)
        """
    }

    private func jsonString(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
