import DistillHTTP
import DistillClient
import DistillHarvest
import Foundation
import Glibc

/// `distill bench http`: client throughput against a fixed-answer endpoint, beside the openai SDK on the same one.
struct BenchHTTPCommand: DistillCommand {
    static let requests: Option<Int> = .value("requests", "N", default: 5000, help: "requests to send (latency mode: default 3 × concurrency)")
    static let concurrency: Option<Int> = .value("concurrency", "C", default: 64, help: "requests in flight (latency mode default: 1000)")
    static let vsOpenai: Option<String?> = .value("vs-openai", "PYTHON", help: "a Python with the openai package, to run the SDK anchor")
    static let anchors: Option<String?> = .value("anchors", "DIR", help: "folder with openai_client_bench.py and nginx-teacher.conf (default: ../shared/anchors, searched upwards)")
    static let latency: Option<Bool> = .flag("latency", help: "the latency scenario instead of throughput")
    static let delay: Option<Double> = .value("delay", "SECONDS", default: 2, help: "server answer delay in the latency scenario")
    static let ownServer: Option<Bool> = .flag("own-server", help: "use distill's own HTTP server even if nginx is installed")

    static let spec = CommandSpec(
        name: "http",
        abstract: "client requests/s against a fixed-answer endpoint, vs the openai SDK",
        usage: "[--requests N] [--concurrency C] [--vs-openai PYTHON] [--anchors DIR] | --latency",
        discussion: """
        Throughput: starts Debian's nginx on a copy of anchors/nginx-teacher.conf (a fixed chat-completion answer that
        costs nginx almost nothing; our own server if nginx is missing), sends N chat requests at concurrency C through
        the full teacher client (encode, libcurl, decode, limiter and retry bookkeeping), and prints requests/s and
        client CPU seconds per 1,000 requests. --vs-openai runs anchors/openai_client_bench.py with that Python on the
        same endpoint in the same run and prints the ratio.
        --latency: C requests in flight (default 1000) against a server that answers after --delay seconds; prints
        achieved vs ideal requests/s (C / delay) and peak RSS. That server runs in this process, so CPU and RSS
        include it.
        """,
        options: [
            requests,
            concurrency,
            vsOpenai,
            anchors,
            latency,
            delay,
            ownServer,
        ],
        examples: """
              distill bench http
              distill bench http --latency                  # 1,000 in flight against a 2 s server
              distill bench http --vs-openai /path/to/venv/bin/python
            """)

    let requests: Int
    let concurrency: Int
    let python: String?
    let anchors: URL
    let latency: Bool
    let delay: Double
    let ownServer: Bool

    init(_ args: ParsedArguments) throws {
        latency = args[Self.latency]
        concurrency = args.isSet(Self.concurrency) ? args[Self.concurrency] : (latency ? 1000 : 64)
        requests = args.isSet(Self.requests) ? args[Self.requests] : (latency ? 3 * concurrency : 5000)
        guard requests > 0, concurrency > 0 else { throw UsageError("--requests and --concurrency must be positive") }
        python = args[Self.vsOpenai]
        delay = args[Self.delay]
        ownServer = args[Self.ownServer]
        if let dir = args[Self.anchors] {
            anchors = URL(fileURLWithPath: dir)
        } else {
            anchors = Self.findAnchors()
        }
        if python != nil && latency { throw UsageError("--vs-openai goes with the throughput scenario, not --latency") }
    }

    func run() async throws {
        // 1,000 client plus 1,000 server sockets need more descriptors than the usual soft limit of 1,024.
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        if latency { try await runLatency() } else { try await runThroughput() }
    }

    private func runThroughput() async throws {
        let endpoint = try await BenchEndpoint.start(anchors: anchors, preferNginx: !ownServer)
        defer { endpoint.stop() }
        Self.say("endpoint: \(endpoint.label) at \(endpoint.baseURL)")
        let result = try await BenchLoad.run(baseURL: endpoint.baseURL, requests: requests, concurrency: concurrency)
        Self.say(String(format: "distill:       %d/%d ok, concurrency %d: %.0f req/s, %.2f CPU s per 1000 requests",
                        result.ok, requests, concurrency, result.requestsPerSecond, result.cpuPer1000)
                 + (endpoint.inProcess ? " (server in-process, included)" : ""))
        guard let python else { return }
        let script = anchors.appendingPathComponent("openai_client_bench.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw BenchError("openai_client_bench.py not found in \(anchors.path); pass --anchors DIR")
        }
        let (status, output) = try await BenchProcess.run(python, [script.path, endpoint.baseURL, String(requests), String(concurrency)])
        Self.say(output.trimmingCharacters(in: .whitespacesAndNewlines))
        guard status == 0, let sdk = BenchLoad.parseSDKRate(output) else {
            throw BenchError("the openai SDK anchor failed (exit \(status))")
        }
        Self.say(String(format: "ratio: distill is %.1f× the openai SDK's req/s", result.requestsPerSecond / sdk))
    }

    private func runLatency() async throws {
        let wait = Duration.milliseconds(Int64(delay * 1000))
        let server = try HTTPServer(host: "127.0.0.1", port: 0, backlog: 4096) { _ in
            try? await Task.sleep(for: wait)
            return HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")], text: BenchEndpoint.answer)
        }
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)/v1"
        Self.say("endpoint: distill HTTPServer answering after \(delay) s, at \(base)")
        let result = try await BenchLoad.run(baseURL: base, requests: requests, concurrency: concurrency, warmUp: false)
        let ideal = Double(concurrency) / delay
        Self.say(String(format: "distill: %d/%d ok, %d in flight: %.1f req/s achieved vs %.1f ideal (%.1f%%), peak RSS %.0f MB",
                     result.ok, requests, concurrency, result.requestsPerSecond, ideal,
                     100 * result.requestsPerSecond / ideal, result.peakRSSMegabytes))
    }
}

extension BenchHTTPCommand {
    /// `../shared/anchors` beside the repository (from the working directory or any folder above it, so a git
    /// worktree nested one level deeper finds it too); the first candidate if none exists.
    static func findAnchors() -> URL {
        var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardized
        let first = dir.appendingPathComponent("../shared/anchors").standardized
        while dir.path != "/" {
            let candidate = dir.deletingLastPathComponent().appendingPathComponent("shared/anchors")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("nginx-teacher.conf").path) {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return first
    }

    /// Prints a line at once (stdout to a pipe is block-buffered, and a bench reports as it goes).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// A bench failure worth a clear message.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
