import DistillData
import Foundation

/// The client side of the OpenAI chat-completions JSON: request encoding and response / error decoding, kept in one
/// place. (The server side is `ChatRequest+Decode` and `ChatResponse+Encode`.)
public enum OpenAIWire {
    /// Why a request could not be encoded or a reply decoded.
    public enum Failure: Error, Sendable {
        /// The request cannot be sent as given (a json_schema that is not a JSON object); nothing was sent.
        case invalidRequest(String)
        /// A 2xx whose body is not a chat completion.
        case invalidResponse(String)
    }

    /// The request body, keys in sorted order. Unset fields are left out, so servers apply their own defaults.
    public static func encode(_ r: ChatRequest) throws(Failure) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        if let v = r.logprobs { w.key("logprobs"); w.bool(v) }
        if let v = r.maxTokens { w.key("max_tokens"); w.int(v) }
        w.key("messages")
        w.beginArray()
        for m in r.messages {
            w.beginObject()
            w.key("content"); w.string(m.content)
            w.key("role"); w.string(m.role)
            w.endObject()
        }
        w.endArray()
        w.key("model"); w.string(r.model)
        if let v = r.n { w.key("n"); w.int(v) }
        if let format = r.responseFormat {
            w.key("response_format")
            w.beginObject()
            switch format {
            case .text:
                w.key("type"); w.string("text")
            case .jsonObject:
                w.key("type"); w.string("json_object")
            case .jsonSchema(let name, let schemaJSON, let strict):
                // The schema is the caller's JSON text, passed through as is once it is known to parse.
                guard let schema = try? JSONValue.parse(schemaJSON), schema.isObject else {
                    throw .invalidRequest("response_format json_schema '\(name)' is not a JSON object")
                }
                w.key("json_schema")
                w.beginObject()
                w.key("name"); w.string(name)
                w.key("schema"); w.raw(schemaJSON)
                w.key("strict"); w.bool(strict)
                w.endObject()
                w.key("type"); w.string("json_schema")
            }
            w.endObject()
        }
        if let v = r.minP { w.key("min_p"); w.double(v) }
        if let v = r.seed { w.key("seed"); w.int(v) }
        if let stop = r.stop {
            w.key("stop")
            w.beginArray()
            for s in stop { w.string(s) }
            w.endArray()
        }
        if let v = r.stream { w.key("stream"); w.bool(v) }
        if let v = r.includeUsage {
            w.key("stream_options")
            w.beginObject()
            w.key("include_usage"); w.bool(v)
            w.endObject()
        }
        if let v = r.temperature { w.key("temperature"); w.double(v) }
        if let v = r.topK { w.key("top_k"); w.int(v) }
        if let v = r.topLogprobs { w.key("top_logprobs"); w.int(v) }
        if let v = r.topP { w.key("top_p"); w.double(v) }
        w.endObject()
        return w.bytes
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
    public static func decode(_ body: [UInt8]) throws(Failure) -> ChatResponse {
        let wire: Response
        do {
            wire = try JSONDecoder().decode(Response.self, from: Data(body))
        } catch {
            throw .invalidResponse("body is not valid chat-completion JSON (\(describe(error))): " + snippet(body))
        }
        guard let choices = wire.choices, !choices.isEmpty else {
            throw .invalidResponse("no 'choices' in the response: " + snippet(body))
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
    public static func providerError(_ body: [UInt8]) -> (message: String, type: String?, code: String?) {
        guard let object = try? JSONValue.parse(Data(body)), object.isObject else {
            return (snippet(body), nil, nil)
        }
        let err = (object["error"]?.isObject ?? false) ? object["error"] ?? object : object
        let message = err["message"]?.stringValue ?? object["error"]?.stringValue ?? snippet(body)
        let code: String? = switch err["code"] {
        case .string(let s)?: s
        case .number(let n)?: n
        default: nil
        }
        return (message, err["type"]?.stringValue, code)
    }

    /// The start of a body for an error message (bodies can be megabytes).
    public static func snippet(_ body: [UInt8]) -> String {
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
