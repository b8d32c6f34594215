import DistillData
import DistillHTTP
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The long-running helpers a pipeline starts for its stages (`distill serve` as the teacher or the judge), each
/// started on first need, logged to `OUT/services/NAME.log`, and stopped (SIGTERM, then SIGKILL after 15 s) at the end.
struct ServiceSet {
    let plan: PipelinePlan
    let say: (String) -> Void
    private var running: [String: Process] = [:]

    init(plan: PipelinePlan, say: @escaping (String) -> Void) {
        self.plan = plan
        self.say = say
    }

    /// Picks a loopback URL for each service: its `port` option, or a free port.
    static func urls(for file: PipelineFile) throws -> [String: String] {
        var out: [String: String] = [:]
        for s in file.services {
            let port = s.options.first { $0.key == "port" }.flatMap { PipelineFile.scalar($0.value) }
            out[s.name] = "http://127.0.0.1:\(try port ?? String(freePort()))/v1"
        }
        return out
    }

    /// Starts service `name` unless it runs already; returns once it answers `GET /v1/models`.
    mutating func start(_ name: String) async throws -> pid_t {
        if let p = running[name], p.isRunning { return p.processIdentifier }
        guard let service = plan.file.services.first(where: { $0.name == name }), let url = plan.serviceURLs[name],
              let port = URL(string: url)?.port else {
            throw DataError(file: plan.file.path, "service '\(name)' is not defined")
        }
        var options = service.options
        if !options.contains(where: { $0.key == "port" }) { options.append(("port", .number(String(port)))) }
        let argv = try plan.arguments(words: service.command, options: options, args: [], outPath: nil, line: service.line,
                                      what: "service '\(name)'", symbolic: false)
        let logDir = plan.out + "/services"
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let log = logDir + "/\(name).log"
        say("service \(name): distill \(argv.joined(separator: " ")) (log: \(log))")
        let p = try ChildProcess.start(argv, log: log)
        running[name] = p
        let client = try HTTPClient()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            guard p.isRunning else {
                throw DataError(file: log, "service '\(name)' exited (status \(p.terminationStatus)) before it answered; "
                    + "its log says why")
            }
            if let r = try? await client.send(HTTPRequest(url: url + "/models")), r.status == 200 {
                say("service \(name): ready at \(url)")
                return p.processIdentifier
            }
            if ChildProcess.interrupted { throw DataError(file: log, "interrupted while service '\(name)' was starting") }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw DataError(file: log, "service '\(name)' did not answer GET \(url)/models within 300 s")
    }

    /// Stops every service: SIGTERM, then SIGKILL if one is still running after 15 s.
    mutating func stopAll() {
        for (name, p) in running.sorted(by: { $0.key < $1.key }) where p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(15)
            while p.isRunning && Date() < deadline { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            say("service \(name): stopped")
        }
        running = [:]
    }

    /// A port on 127.0.0.1 that is free now (bound to port 0, read back, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DataError(file: "<socket>", "cannot open a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw DataError(file: "<socket>", "cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
