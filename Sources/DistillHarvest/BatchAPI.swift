import DistillClient
import DistillHTTP
import Foundation

/// The OpenAI Files and Batches endpoints the harvester needs: upload a batch input file, create a batch, read it
/// back, and download an output or error file. One attempt per call; the batch driver decides what to repeat.
/// The key is read from the endpoint's variable and goes into the Authorization header only; messages are redacted.
struct BatchAPI: Sendable {
    /// The fields of a batch object the driver uses.
    struct Batch: Decodable, Sendable {
        var id: String
        var status: String
        var outputFileID: String?
        var errorFileID: String?

        enum CodingKeys: String, CodingKey {
            case id, status
            case outputFileID = "output_file_id"
            case errorFileID = "error_file_id"
        }

        /// Statuses after which the batch will not change again.
        var isTerminal: Bool { ["completed", "failed", "expired", "cancelled"].contains(status) }
    }

    let endpoint: Endpoint
    let http: any HTTPSending
    private let key: String?

    init(endpoint: Endpoint, http: any HTTPSending, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.endpoint = endpoint
        self.http = http
        if let env = endpoint.keyEnv {
            guard let value = environment[env], !value.isEmpty else {
                throw TeacherError(kind: .missingKey(env: env), message: "missing key")
            }
            key = value
        } else {
            key = nil
        }
    }

    private var base: String {
        var u = endpoint.baseURL
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    private func send(_ method: String, _ path: String, contentType: String? = nil, body: [UInt8] = []) async throws -> [UInt8] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let contentType { headers.append(("Content-Type", contentType)) }
        if let key { headers.append(("Authorization", "Bearer " + key)) }
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(method: method, url: base + path, headers: headers, body: body))
        } catch let error as HTTPClientError {
            throw TeacherError(kind: .transport(error), message: redact(error.message))
        }
        guard (200..<300).contains(response.status) else {
            let (message, type, code) = ChatWire.providerError(response.body)
            throw TeacherError(kind: .http(status: response.status), message: redact("\(method) \(path): \(message)"),
                               providerType: type, providerCode: code)
        }
        return response.body
    }

    private func redact(_ text: String) -> String {
        guard let key, key.count >= 4 else { return text }
        return text.replacingOccurrences(of: key, with: "[redacted]")
    }

    /// Uploads a JSONL batch input (`purpose=batch`, multipart/form-data); returns the file id.
    func upload(_ jsonl: Data, filename: String) async throws -> String {
        let boundary = "distill-" + UUID().uuidString
        var body = Data()
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8))
        body.append(Data(("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n"
            + "Content-Type: application/jsonl\r\n\r\n").utf8))
        body.append(jsonl)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        let reply = try await send("POST", "/files", contentType: "multipart/form-data; boundary=\(boundary)", body: Array(body))
        guard let object = (try? JSONSerialization.jsonObject(with: Data(reply))) as? [String: Any], let id = object["id"] as? String else {
            throw TeacherError(kind: .invalidResponse, message: "file upload answered without a file id")
        }
        return id
    }

    /// Creates a batch over an uploaded file, tagged with the run fingerprint.
    func create(inputFileID: String, metadata: [String: String]) async throws -> Batch {
        let request: [String: Any] = ["input_file_id": inputFileID, "endpoint": "/v1/chat/completions",
                                      "completion_window": "24h", "metadata": metadata]
        let body = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
        return try decode(try await send("POST", "/batches", contentType: "application/json", body: Array(body)))
    }

    func retrieve(_ id: String) async throws -> Batch {
        try decode(try await send("GET", "/batches/\(id)"))
    }

    func content(_ fileID: String) async throws -> Data {
        Data(try await send("GET", "/files/\(fileID)/content"))
    }

    private func decode(_ body: [UInt8]) throws -> Batch {
        do {
            return try JSONDecoder().decode(Batch.self, from: Data(body))
        } catch {
            throw TeacherError(kind: .invalidResponse, message: "not a batch object: \(ChatWire.snippet(body))")
        }
    }
}
