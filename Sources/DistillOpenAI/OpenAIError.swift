import DistillData

/// An OpenAI error object with the HTTP status it goes out with: `{"error": {"message", "type", "param", "code"}}`.
///
/// The client side throws it for a request it cannot encode or a 2xx body it cannot decode; the server side answers
/// with it (400 for a client mistake, naming the field in `param`; 404, 413, 401, 503).
public struct OpenAIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    /// `invalid_request_error`, `authentication_error`, `not_found_error`, `server_error`, …
    public var type: String
    /// The request field at fault (`messages[1].role`, `response_format.json_schema.schema.properties.age`).
    public var param: String?
    public var code: String?
    public var message: String

    public init(status: Int, type: String, param: String? = nil, code: String? = nil, message: String) {
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.message = message
    }

    /// A 400 for a client mistake in field `param`.
    public static func invalid(_ param: String?, _ message: String) -> OpenAIError {
        OpenAIError(status: 400, type: "invalid_request_error", param: param, code: nil, message: message)
    }

    public var description: String { message }

    /// The wire object, `{"error": {...}}`.
    public var json: JSONValue {
        .object([.init("error", .object([
            .init("message", .string(message)),
            .init("type", .string(type)),
            .init("param", param.map(JSONValue.string) ?? .null),
            .init("code", code.map(JSONValue.string) ?? .null),
        ]))])
    }

    public var body: [UInt8] { Array(json.compactData()) }
}
