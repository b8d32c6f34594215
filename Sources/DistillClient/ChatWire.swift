@_exported import DistillOpenAI

/// The client's view of the wire (`DistillOpenAI.OpenAIWire`): the same encoding and decoding, failures as
/// `TeacherError` so the retry policy and callers see one error type.
package enum ChatWire {
    package static func encode(_ r: ChatRequest) throws(TeacherError) -> [UInt8] {
        do {
            return try OpenAIWire.encode(r)
        } catch {
            throw TeacherError(error)
        }
    }

    package static func decode(_ body: [UInt8]) throws(TeacherError) -> ChatResponse {
        do {
            return try OpenAIWire.decode(body)
        } catch {
            throw TeacherError(error)
        }
    }

    package static func providerError(_ body: [UInt8]) -> (message: String, type: String?, code: String?) {
        OpenAIWire.providerError(body)
    }

    package static func snippet(_ body: [UInt8]) -> String { OpenAIWire.snippet(body) }
}

extension TeacherError {
    init(_ failure: OpenAIWire.Failure) {
        switch failure {
        case .invalidRequest(let m): self.init(kind: .invalidRequest, message: m)
        case .invalidResponse(let m): self.init(kind: .invalidResponse, message: m)
        }
    }
}
