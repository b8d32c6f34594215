/// Incremental HTTP/1.1 request parser: feed it bytes as they arrive, take out complete requests.
///
/// Pure (no sockets), so it is tested directly. Handles Content-Length and chunked bodies (trailers are read and
/// dropped), and reports whether the client asked for `100-continue` before its body has arrived.
struct HTTPRequestParser {
    /// What the parser found in the bytes buffered so far.
    enum Outcome {
        /// Not a whole request yet. `wantsContinue` is true once the head is in, the client sent
        /// `Expect: 100-continue`, and its body has not started.
        case needMore(wantsContinue: Bool)
        case request(HTTPServerRequest)
        /// The bytes are not HTTP; the connection should get a 400 and be closed.
        case invalid(String)
    }

    /// Largest head (request line + headers) accepted.
    static let maxHeadBytes = 64 * 1024
    /// Largest body accepted (a chat request with a long context is a few MB at most).
    static let maxBodyBytes = 64 * 1024 * 1024

    private(set) var buffer: [UInt8] = []
    /// Where the next unparsed request starts in `buffer` (consumed bytes are dropped lazily).
    private var start = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    /// True when bytes of a following request (or garbage) are already buffered.
    var hasBufferedBytes: Bool { start < buffer.count }

    /// Parses one request if a whole one is buffered and removes its bytes.
    mutating func next() -> Outcome {
        guard let headEnd = findHeadEnd() else {
            if buffer.count - start > Self.maxHeadBytes { return .invalid("request head larger than 64 KiB") }
            return .needMore(wantsContinue: false)
        }
        guard var request = parseHead(buffer[start..<headEnd]) else { return .invalid("malformed request head") }
        let bodyStart = headEnd + 4
        let expectsContinue = request.header("expect")?.lowercased() == "100-continue"
        if let te = request.header("transfer-encoding"), te.lowercased().contains("chunked") {
            switch Self.decodeChunked(buffer, from: bodyStart) {
            case .incomplete:
                return .needMore(wantsContinue: expectsContinue && bodyStart == buffer.count)
            case .invalid(let why):
                return .invalid(why)
            case .complete(let body, let end):
                request.body = body
                consume(upTo: end)
                return .request(request)
            }
        }
        var length = 0
        if let cl = request.header("content-length") {
            guard let n = Int(cl.trimmingSpaces()), n >= 0 else { return .invalid("bad Content-Length '\(cl)'") }
            length = n
        }
        if length > Self.maxBodyBytes { return .invalid("body larger than 64 MiB") }
        guard buffer.count - bodyStart >= length else {
            return .needMore(wantsContinue: expectsContinue && bodyStart == buffer.count)
        }
        request.body = Array(buffer[bodyStart..<(bodyStart + length)])
        consume(upTo: bodyStart + length)
        return .request(request)
    }

    private mutating func consume(upTo end: Int) {
        start = end
        // Compact once the consumed prefix dominates, so a long keep-alive connection does not grow forever.
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }

    private func findHeadEnd() -> Int? {
        var i = start
        let n = buffer.count
        while i + 3 < n {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    private func parseHead(_ head: ArraySlice<UInt8>) -> HTTPServerRequest? {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        // Tolerate stray empty lines before a request (RFC 9112 §2.2).
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { return nil }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = String(line[..<colon])
            guard !name.isEmpty, !name.contains(" ") else { return nil }
            headers.append((name, String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        return HTTPServerRequest(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
                                 headers: headers, body: [])
    }

    enum ChunkedResult: Equatable {
        case incomplete
        case invalid(String)
        case complete(body: [UInt8], end: Int)
    }

    /// Decodes a chunked body starting at `from`: `size-hex[;ext]\r\n data \r\n … 0\r\n [trailers] \r\n`.
    static func decodeChunked(_ buf: [UInt8], from: Int) -> ChunkedResult {
        var body: [UInt8] = []
        var i = from
        while true {
            guard let lineEnd = findCRLF(buf, from: i) else { return .incomplete }
            let sizeText = String(decoding: buf[i..<lineEnd], as: UTF8.self)
            let hex = sizeText.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces() } ?? ""
            guard let size = Int(hex, radix: 16), size >= 0 else { return .invalid("bad chunk size '\(sizeText)'") }
            i = lineEnd + 2
            if size == 0 {
                // Trailers: header lines until an empty line.
                while true {
                    guard let end = findCRLF(buf, from: i) else { return .incomplete }
                    let empty = end == i
                    i = end + 2
                    if empty { return .complete(body: body, end: i) }
                }
            }
            // `size` may be anything up to Int.max ("7fffffffffffffff"): compared by subtraction, never added first.
            if size > maxBodyBytes - body.count { return .invalid("body larger than 64 MiB") }
            guard buf.count >= i + size + 2 else { return .incomplete }
            guard buf[i + size] == 13, buf[i + size + 1] == 10 else { return .invalid("chunk not followed by CRLF") }
            body.append(contentsOf: buf[i..<(i + size)])
            i += size + 2
        }
    }

    private static func findCRLF(_ buf: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 1 < buf.count {
            if buf[i] == 13 && buf[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (header values, RFC 9110 §5.5 OWS).
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
