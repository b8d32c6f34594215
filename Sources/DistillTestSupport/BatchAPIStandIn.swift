import Foundation
import Synchronization

/// OpenAI's Files and Batches endpoints, played for tests of `--batch` (serve it through a `TeacherStandIn` whose
/// handler calls `handle`). The first batch expires having answered only every other line (to exercise resubmission);
/// every batch stays `in_progress` for one poll (and for as long as `hold` is set). Answers are chat completions
/// whose text names the critique-revise stage the prompt belongs to, or echoes "answer" otherwise.
public final class BatchAPIStandIn: Sendable {
    public struct State {
        public var files: [String: Data] = [:]
        public var batches: [String: (input: String, polls: Int, status: String)] = [:]
        public var created: [String] = []
        public var submittedIDs: [[String]] = []
        public var retrieved: [String] = []
    }

    public let state = Mutex(State())
    public let hold = Atomic<Bool>(false)
    let pollsBeforeDone = 1

    func json(_ object: [String: Any]) -> StandInReply {
        .raw(status: 200, headers: [("Content-Type", "application/json")],
             body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    public init() {}

    public func handle(_ r: StandInRequest) -> StandInReply {
        switch (r.method, r.path) {
        case ("POST", "/v1/files"):
            // The JSONL part of the multipart body: after the blank line that follows its part headers.
            let text = String(decoding: r.body, as: UTF8.self)
            guard let start = text.range(of: "Content-Type: application/jsonl\r\n\r\n"),
                  let end = text.range(of: "\r\n--distill-", range: start.upperBound..<text.endIndex) else {
                return .error(status: 400, type: "invalid_request_error", message: "no file part")
            }
            let content = Data(text[start.upperBound..<end.lowerBound].utf8)
            let id = state.withLock { s in
                let id = "file-\(s.files.count + 1)"
                s.files[id] = content
                return id
            }
            return json(["id": id, "object": "file", "purpose": "batch"])
        case ("POST", "/v1/batches"):
            guard let input = r.json?["input_file_id"] as? String else { return .error(status: 400, type: "invalid_request_error") }
            let id = state.withLock { s in
                let id = "batch-\(s.created.count + 1)"
                s.created.append(id)
                s.batches[id] = (input, 0, "validating")
                let lines = (s.files[input] ?? Data()).split(separator: 0x0A)
                s.submittedIDs.append(lines.compactMap {
                    ((try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any])?["custom_id"] as? String
                })
                return id
            }
            return json(["id": id, "object": "batch", "status": "validating"])
        case ("GET", let path) where path.hasPrefix("/v1/batches/"):
            let id = String(path.dropFirst("/v1/batches/".count))
            let holding = hold.load(ordering: .relaxed)
            let object: [String: Any] = state.withLock { s in
                s.retrieved.append(id)
                guard var b = s.batches[id] else { return [:] }
                b.polls += 1
                if !holding, b.polls > pollsBeforeDone {
                    b.status = id == "batch-1" ? "expired" : "completed"
                    s.files["out-\(id)"] = output(for: s.files[b.input] ?? Data(), half: id == "batch-1")
                } else {
                    b.status = "in_progress"
                }
                s.batches[id] = b
                var o: [String: Any] = ["id": id, "status": b.status]
                if b.status != "in_progress" { o["output_file_id"] = "out-\(id)" }
                return o
            }
            return object.isEmpty ? .error(status: 404, type: "invalid_request_error", message: "No batch found") : json(object)
        case ("GET", let path) where path.hasPrefix("/v1/files/") && path.hasSuffix("/content"):
            let id = String(path.dropFirst("/v1/files/".count).dropLast("/content".count))
            guard let data = state.withLock({ $0.files[id] }) else { return .error(status: 404, type: "invalid_request_error") }
            return .raw(status: 200, headers: [("Content-Type", "application/jsonl")], body: data)
        default:
            return .error(status: 404, type: "invalid_request_error", message: "no route \(r.method) \(r.path)")
        }
    }

    /// Output lines for an input file: a chat completion echoing the stage; only every other line when `half`.
    func output(for input: Data, half: Bool) -> Data {
        var out = Data()
        for (i, line) in input.split(separator: 0x0A).enumerated() where !half || i % 2 == 0 {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let id = o["custom_id"] as? String, let body = o["body"] as? [String: Any],
                  let messages = body["messages"] as? [[String: Any]], let prompt = messages.last?["content"] as? String else { continue }
            let stage = prompt.contains("Critique of the explanation") ? "revised" : prompt.contains("Critique the explanation") ? "critique" : prompt.contains("Explain") ? "explanation" : "answer"
            let chat: [String: Any] = ["id": "c-\(id)", "object": "chat.completion", "model": body["model"] ?? "",
                                       "choices": [["index": 0, "message": ["role": "assistant", "content": "\(stage) 🍎"], "finish_reason": "stop"]],
                                       "usage": ["prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13]]
            let row: [String: Any] = ["id": "r-\(id)", "custom_id": id,
                                      "response": ["status_code": 200, "request_id": "q-\(id)", "body": chat], "error": NSNull()]
            out.append((try? JSONSerialization.data(withJSONObject: row)) ?? Data())
            out.append(0x0A)
        }
        return out
    }
}
