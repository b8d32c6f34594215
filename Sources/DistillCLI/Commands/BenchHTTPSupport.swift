import DistillHTTP
import DistillClient
import DistillHarvest
import Foundation
import Glibc
import Synchronization

/// The fixed-answer endpoint for `bench http`: Debian's nginx on the anchor config (port rewritten to a free one),
/// or distill's own server.
final class BenchEndpoint: Sendable {
    /// The same body nginx-teacher.conf returns.
    static let answer = #"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"Rayleigh scattering makes short wavelengths scatter more, so the sky looks blue. Therefore, the answer is blue."},"finish_reason":"stop"}],"usage":{"prompt_tokens":42,"completion_tokens":24,"total_tokens":66}}"#

    let baseURL: String
    let label: String
    let inProcess: Bool
    private let server: HTTPServer?
    private let nginx: Process?
    private let nginxDir: URL?

    private init(baseURL: String, label: String, server: HTTPServer?, nginx: Process? = nil, nginxDir: URL?) {
        self.baseURL = baseURL
        self.label = label
        self.server = server
        self.nginx = nginx
        self.nginxDir = nginxDir
        inProcess = server != nil
    }

    static func start(anchors: URL, preferNginx: Bool) async throws -> BenchEndpoint {
        let conf = anchors.appendingPathComponent("nginx-teacher.conf")
        let nginx = "/usr/sbin/nginx"
        if preferNginx, FileManager.default.isExecutableFile(atPath: nginx), let text = try? String(contentsOf: conf, encoding: .utf8) {
            let port = try freePort()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-nginx-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            // In the foreground ("daemon off"), as our child: a daemonised master would inherit the pipe Foundation
            // watches to notice a child's exit, and the launch would never be seen to end.
            let rewritten = text.replacingOccurrences(of: "127.0.0.1:18080", with: "127.0.0.1:\(port)")
                .replacingOccurrences(of: "daemon on;", with: "daemon off;")
            try rewritten.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: nginx)
            p.arguments = ["-p", dir.path, "-c", dir.appendingPathComponent("nginx.conf").path,
                           "-e", dir.appendingPathComponent("error.log").path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if await waitForListener(port: port) {
                return BenchEndpoint(baseURL: "http://127.0.0.1:\(port)/v1", label: "nginx (\(conf.lastPathComponent))",
                                     server: nil, nginx: p, nginxDir: dir)
            }
            p.terminate()
        }
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in
            HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")], text: answer)
        }
        return BenchEndpoint(baseURL: "http://127.0.0.1:\(server.port)/v1", label: "distill HTTPServer (fixed answer)",
                             server: server, nginxDir: nil)
    }

    func stop() {
        server?.stop()
        nginx?.terminate()  // SIGTERM: the master stops its worker and exits
        if let dir = nginxDir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Polls until something accepts on `port` (up to 3 s).
    private static func waitForListener(port: Int) async -> Bool {
        for _ in 0..<300 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
            let r = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if r == 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// An ephemeral port nothing is listening on (bound, read, released).
    private static func freePort() throws -> Int {
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in HTTPServerResponse(status: 404) }
        let port = server.port
        server.stop()
        return port
    }
}

/// Sends the load and measures it.
enum BenchLoad {
    struct Result {
        var ok: Int
        var seconds: Double
        var cpuSeconds: Double
        var peakRSSMegabytes: Double
        var requestsPerSecond: Double { Double(ok) / seconds }
        var cpuPer1000: Double { 1000 * cpuSeconds / Double(max(ok, 1)) }
    }

    /// `requests` chat completions through `TeacherClient` (no rate limits), at most `concurrency` at once, with the
    /// same request shape as openai_client_bench.py.
    static func run(baseURL: String, requests: Int, concurrency: Int, warmUp: Bool = true) async throws -> Result {
        let http = try HTTPClient(configuration: .init(maxConnections: max(1024, concurrency + 16)))
        let client = TeacherClient(openAI: OpenAIClient(endpoint: Endpoint(baseURL: baseURL, model: "bench"), http: http, environment: [:]),
                                   options: .init(retry: RetryPolicy(maxAttempts: 1), maxConcurrent: concurrency),
                                   clock: ContinuousClock())
        @Sendable func one(_ i: Int) async throws -> Bool {
            let r = try await client.complete(ChatRequest(
                model: "bench", messages: [.user("Q\(i): Why is the sky blue? Let's think step by step.")],
                temperature: 0.7, maxTokens: 64))
            return !(r.choices.first?.message.content.isEmpty ?? true)
        }
        if warmUp { _ = try await one(-1) }
        let cpu0 = cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
            var next = 0
            var ok = 0
            while next < min(concurrency, requests) {
                let i = next
                group.addTask { try await one(i) }
                next += 1
            }
            while let done = try await group.next() {
                if done { ok += 1 }
                if next < requests {
                    let i = next
                    group.addTask { try await one(i) }
                    next += 1
                }
            }
            return ok
        }
        let seconds = (clock.now - start) / .seconds(1)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Result(ok: ok, seconds: seconds, cpuSeconds: cpuSeconds() - cpu0,
                      peakRSSMegabytes: Double(usage.ru_maxrss) / 1024)
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// The req/s figure from openai_client_bench.py's line "... concurrency 64: 162 req/s, ...".
    static func parseSDKRate(_ output: String) -> Double? {
        guard let range = output.range(of: #"[0-9.]+ req/s"#, options: .regularExpression) else { return nil }
        return Double(output[range].split(separator: " ")[0])
    }
}

/// Runs a helper process off the cooperative pool and collects its output.
enum BenchProcess {
    /// `capture: false` for a daemon: its children inherit the output, so reading it to EOF would never end.
    /// `stderr: false` drops the standard error (progress bars) instead of capturing it with the output.
    static func run(_ executable: String, _ arguments: [String], capture: Bool = true,
                    stderr: Bool = true) async throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = capture ? pipe : FileHandle.nullDevice
        p.standardError = capture && stderr ? pipe : FileHandle.nullDevice
        try p.run()
        let data = !capture ? Data() : await withCheckedContinuation { (c: CheckedContinuation<Data, Never>) in
            Thread { c.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }.start()
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { p.waitUntilExit(); c.resume() }.start()
        }
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
