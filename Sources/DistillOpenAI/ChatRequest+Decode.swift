import DistillData
import Foundation

extension ChatRequest {
    /// Fields that cannot change a local model's answer, accepted and ignored (as OpenAI documents them).
    static let ignorable: Set<String> = ["user", "metadata", "store", "service_tier", "parallel_tool_calls"]
    /// Roles a chat template knows; `developer` (OpenAI's newer name for system) is read as `system`.
    public static let roles: Set<String> = ["system", "developer", "user", "assistant"]

    /// Decodes a `POST /v1/chat/completions` body as a server does: every field type- and range-checked, and any
    /// field this server does not implement refused by name (never silently ignored).
    public init(serverBody body: [UInt8]) throws(OpenAIError) {
        var (f, model) = try WireFields.requestBody(body)
        guard let rawMessages = f.value("messages") else { throw .invalid("messages", "'messages' is required") }
        guard let list = rawMessages.arrayValue, !list.isEmpty else {
            throw .invalid("messages", "'messages' must be a non-empty array of {\"role\", \"content\"}")
        }
        var messages: [ChatMessage] = []
        for (i, m) in list.enumerated() {
            messages.append(try Self.message(m, path: "messages[\(i)]"))
        }
        self.init(model: model, messages: messages)
        temperature = try f.double("temperature", in: 0...2)
        topP = try f.double("top_p", in: 0...1)
        if topP == 0 { throw .invalid("top_p", "'top_p' must be above 0") }
        topK = try f.int("top_k", in: 0...100_000)
        minP = try f.double("min_p", in: 0...1)
        let maxTokens = try f.int("max_tokens", in: 1...1_000_000)
        self.maxTokens = try f.int("max_completion_tokens", in: 1...1_000_000) ?? maxTokens
        n = try f.int("n", in: 1...128)
        stop = try f.stop("stop")
        seed = try f.int("seed", in: Int.min...Int.max)
        logprobs = try f.bool("logprobs")
        topLogprobs = try f.int("top_logprobs", in: 0...20)
        if (topLogprobs ?? 0) > 0 && logprobs != true {
            throw .invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true")
        }
        stream = try f.bool("stream")
        if let options = f.value("stream_options") {
            guard stream == true else { throw .invalid("stream_options", "'stream_options' is only allowed with 'stream': true") }
            var o = try WireFields(options, path: "stream_options")
            includeUsage = try o.bool("include_usage")
            try o.refuseUnknown(ignorable: ["continuous_usage_stats"])
        }
        if let format = f.value("response_format") {
            responseFormat = try Self.responseFormat(format)
        }
        for penalty in ["frequency_penalty", "presence_penalty"] {
            if let p = try f.double(penalty, in: -2...2), p != 0 {
                throw .invalid(penalty, "'\(penalty)' is not supported by this server (only 0); remove it")
            }
        }
        if let bias = f.value("logit_bias"), bias != .object([]) {
            throw .invalid("logit_bias", "'logit_bias' is not supported by this server; remove it")
        }
        try f.refuseUnknown(ignorable: Self.ignorable)
    }

    /// One `{"role", "content"}`; content is a string or an array of `{"type": "text", "text"}` parts.
    static func message(_ m: JSONValue, path: String) throws(OpenAIError) -> ChatMessage {
        var f = try WireFields(m, path: path)
        guard let role = try f.string("role") else { throw .invalid(path + ".role", "'\(path).role' is required") }
        guard roles.contains(role) else {
            throw .invalid(path + ".role", "'\(path).role' is '\(role)'; it must be one of system, developer, user, assistant")
        }
        var text = ""
        switch f.value("content") {
        case .string(let s)?:
            text = s
        case .array(let parts)?:
            for (k, part) in parts.enumerated() {
                var p = try WireFields(part, path: path + ".content[\(k)]")
                guard try p.string("type") == "text", let t = try p.string("text") else {
                    throw .invalid(path + ".content[\(k)]", "'\(path).content[\(k)]' must be {\"type\": \"text\", \"text\": …} (only text is supported)")
                }
                try p.refuseUnknown()
                text += t
            }
        case nil:
            if role != "assistant" { throw .invalid(path + ".content", "'\(path).content' is required") }
        case let other?:
            throw .invalid(path + ".content", "'\(path).content' must be a string or an array of text parts, not \(other.kindName)")
        }
        _ = f.value("name")
        try f.refuseUnknown()
        return ChatMessage(role: role == "developer" ? "system" : role, content: text)
    }

    /// `{"type": "text" | "json_object" | "json_schema", "json_schema": {"name", "schema", "strict"}}`.
    static func responseFormat(_ v: JSONValue) throws(OpenAIError) -> ResponseFormat {
        var f = try WireFields(v, path: "response_format")
        let type = try f.string("type")
        let result: ResponseFormat
        switch type {
        case "text"?: result = .text
        case "json_object"?: result = .jsonObject
        case "json_schema"?:
            guard let spec = f.value("json_schema") else {
                throw .invalid("response_format.json_schema", "'response_format.json_schema' is required with type json_schema")
            }
            var s = try WireFields(spec, path: "response_format.json_schema")
            let name = try s.string("name") ?? "response"
            guard let schema = s.value("schema"), schema.isObject else {
                throw .invalid("response_format.json_schema.schema", "'response_format.json_schema.schema' must be a JSON object")
            }
            let strict = try s.bool("strict") ?? false
            _ = try s.string("description")
            try s.refuseUnknown()
            result = .jsonSchema(name: name, schemaJSON: String(decoding: schema.compactData(), as: UTF8.self), strict: strict)
        default:
            throw .invalid("response_format.type", "'response_format.type' must be text, json_object or json_schema")
        }
        try f.refuseUnknown()
        return result
    }
}
