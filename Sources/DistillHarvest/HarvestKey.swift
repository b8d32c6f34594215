import DistillClient
import DistillData
import Foundation

/// The content key of one teacher request: the item, the recipe stage, the sample index, and hashes of the exact
/// prompt and generation parameters. Two requests with the same key are the same request, so a key found in the
/// journal is answered from it and never sent again. The key also serves as the Batch API `custom_id`.
public struct HarvestKey: Hashable, Sendable {
    /// The input item's id (its `id` field, or its 1-based record number).
    public var item: String
    /// The recipe stage (`answer`, `cot-reason`, `critique`, …).
    public var stage: String
    /// Which of several samples of the same prompt this is (0-based).
    public var sample: Int
    /// SHA-256 of the messages, as canonical JSON.
    public var promptHash: String
    /// SHA-256 of model and generation parameters, as canonical JSON.
    public var paramsHash: String

    /// A short stable id for the key: 32 hex digits of SHA-256 over the fields.
    public var id: String {
        String(SHA256.hex([item, stage, String(sample), promptHash, paramsHash].joined(separator: "\u{1F}")).prefix(32))
    }

    public init(item: String, stage: String, sample: Int, promptHash: String, paramsHash: String) {
        self.item = item
        self.stage = stage
        self.sample = sample
        self.promptHash = promptHash
        self.paramsHash = paramsHash
    }

    /// The key of `request` for stage `stage` of `item`.
    public init(item: String, stage: String, sample: Int, request: ChatRequest) {
        self.init(item: item, stage: stage, sample: sample,
                  promptHash: Self.promptHash(request.messages), paramsHash: Self.paramsHash(request))
    }

    /// Hash of the messages: role and content in order, encoded with sorted keys.
    public static func promptHash(_ messages: [ChatMessage]) -> String {
        let data = (try? JSONLines.encoder.encode(messages)) ?? Data()
        return SHA256.hex(data)
    }

    /// Hash of everything except the messages that changes what the teacher would say.
    public static func paramsHash(_ r: ChatRequest) -> String {
        var p: [String: String] = ["model": r.model]
        if let v = r.temperature { p["temperature"] = String(v) }
        if let v = r.topP { p["top_p"] = String(v) }
        if let v = r.maxTokens { p["max_tokens"] = String(v) }
        if let v = r.n { p["n"] = String(v) }
        if let v = r.stop { p["stop"] = v.joined(separator: "\u{1F}") }
        if let v = r.seed { p["seed"] = String(v) }
        if let v = r.logprobs { p["logprobs"] = String(v) }
        if let v = r.topLogprobs { p["top_logprobs"] = String(v) }
        switch r.responseFormat {
        case nil: break
        case .text?: p["response_format"] = "text"
        case .jsonObject?: p["response_format"] = "json_object"
        case .jsonSchema(let name, let schema, let strict)?: p["response_format"] = "json_schema:\(name):\(strict):\(schema)"
        }
        let data = (try? JSONLines.encoder.encode(p)) ?? Data()
        return SHA256.hex(data)
    }
}
