import Foundation

/// The OpenAI chat-completions JSON: request encoding and response / error decoding, kept in one place.
enum ChatWire {
    /// The request body. Unset fields are left out, so servers apply their own defaults.
    static func encode(_ r: ChatRequest) throws -> [UInt8] {
        var body: [String: Any] = [
            "model": r.model,
            "messages": r.messages.map { ["role": $0.role, "content": $0.content] },
        ]
        if let v = r.temperature { body["temperature"] = v }
        if let v = r.topP { body["top_p"] = v }
        if let v = r.maxTokens { body["max_tokens"] = v }
        if let v = r.n { body["n"] = v }
        if let v = r.stop { body["stop"] = v }
        if let v = r.seed { body["seed"] = v }
        if let v = r.logprobs { body["logprobs"] = v }
        if let v = r.topLogprobs { body["top_logprobs"] = v }
        switch r.responseFormat {
        case nil: break
        case .text: body["response_format"] = ["type": "text"]
        case .jsonObject: body["response_format"] = ["type": "json_object"]
        case .jsonSchema(let name, let schemaJSON, let strict):
            guard let schema = try? JSONSerialization.jsonObject(with: Data(schemaJSON.utf8)) else {
                throw TeacherError(kind: .invalidResponse, message: "response_format json_schema '\(name)' is not valid JSON")
            }
            body["response_format"] = ["type": "json_schema",
                                       "json_schema": ["name": name, "schema": schema, "strict": strict] as [String: Any]]
        }
        return Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
    }

    private struct Response: Decodable {
        struct Message: Decodable {
            var role: String?
            var content: String?
            var reasoning_content: String?
        }
        struct Logprobs: Decodable {
            var content: [TokenLogprob]?
        }
        struct Choice: Decodable {
            var index: Int?
            var message: Message?
            var finish_reason: String?
            var logprobs: Logprobs?
        }
        var id: String?
        var model: String?
        var choices: [Choice]?
        var usage: ChatUsage?
    }

    /// Decodes a 2xx body; throws `.invalidResponse` naming what was wrong.
    static func decode(_ body: [UInt8]) throws(TeacherError) -> ChatResponse {
        let wire: Response
        do {
            wire = try JSONDecoder().decode(Response.self, from: Data(body))
        } catch {
            throw TeacherError(kind: .invalidResponse, message: "body is not valid chat-completion JSON (\(describe(error))): "
                + snippet(body))
        }
        guard let choices = wire.choices, !choices.isEmpty else {
            throw TeacherError(kind: .invalidResponse, message: "no 'choices' in the response: " + snippet(body))
        }
        let mapped = choices.enumerated().map { i, c in
            ChatChoice(index: c.index ?? i,
                       message: ChatMessage(role: c.message?.role ?? "assistant", content: c.message?.content ?? ""),
                       finishReason: c.finish_reason, logprobs: c.logprobs?.content,
                       reasoningContent: c.message?.reasoning_content)
        }
        return ChatResponse(id: wire.id ?? "", model: wire.model ?? "", choices: mapped, usage: wire.usage)
    }

    /// The provider's error, from `{"error": {"message", "type", "code"}}` (OpenAI and most compatibles),
    /// `{"message": …}`, or the raw text.
    static func providerError(_ body: [UInt8]) -> (message: String, type: String?, code: String?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return (snippet(body), nil, nil)
        }
        let err = object["error"] as? [String: Any] ?? object
        let message = (err["message"] as? String) ?? (object["error"] as? String) ?? snippet(body)
        let code: String? = switch err["code"] {
        case let s as String: s
        case let n as NSNumber: n.stringValue
        default: nil
        }
        return (message, err["type"] as? String, code)
    }

    /// The start of a body for an error message (bodies can be megabytes).
    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return body.count > 300 ? text + "…" : (text.isEmpty ? "(empty body)" : text)
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let c)?: c.debugDescription
        case .keyNotFound(let k, _)?: "missing field '\(k.stringValue)'"
        case .typeMismatch(_, let c)?: "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .valueNotFound(_, let c)?: "null at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: "\(error)"
        }
    }
}
