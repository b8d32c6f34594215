import DistillClient
import Foundation

/// Remembers which `response_format` the judge endpoint accepts, shared by every concurrent request of a run.
/// Starts at the strongest mode; a request rejected because of `response_format` moves everyone one step down
/// (json_schema → json_object → prompt), once, so a run against a server without structured outputs costs one
/// failed request per step, not one per item.
public actor ReplyFormatNegotiator {
    public private(set) var mode: ReplyFormatMode

    public init(start: ReplyFormatMode = .jsonSchema) { mode = start }

    /// Steps down from `failed` (if nobody has already) and returns the mode to use next, or nil if `failed` was the last.
    public func downgrade(from failed: ReplyFormatMode) -> ReplyFormatMode? {
        if mode != failed { return mode }  // another request already stepped down
        switch failed {
        case .jsonSchema: mode = .jsonObject
        case .jsonObject: mode = .prompt
        case .prompt: return nil
        }
        return mode
    }

    /// True when an error says the server rejected the request's `response_format` (HTTP 400/422 naming it):
    /// OpenAI, vLLM and llama.cpp all name the field in the message; a server that ignores the field never errors.
    public static func isUnsupportedFormat(_ error: any Error) -> Bool {
        let text = String(describing: error).lowercased()
        let namesField = text.contains("response_format") || text.contains("json_schema") || text.contains("json_object")
            || text.contains("response format") || text.contains("structured output")
        let isClientError = text.contains("400") || text.contains("422") || text.contains("invalid_request")
            || text.contains("not supported") || text.contains("unsupported")
        return namesField && isClientError
    }

    static func responseFormat(_ mode: ReplyFormatMode, rubric: Rubric) -> ResponseFormat? {
        switch mode {
        case .jsonSchema: .jsonSchema(name: "verdict", schemaJSON: rubric.jsonSchema, strict: true)
        case .jsonObject: .jsonObject
        case .prompt: nil
        }
    }
}
