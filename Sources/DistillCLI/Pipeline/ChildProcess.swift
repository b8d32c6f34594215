import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `distill` itself as a child process for one pipeline stage or service, and relays stop signals to it.
///
/// Each stage runs in its own process: its memory is returned when it ends (a trainer, then a generator), its
/// progress goes straight to the terminal, and a crash in one stage cannot corrupt the pipeline's state. Ctrl-C
/// reaches the child from the terminal (the whole process group gets it), so the parent only notes it; SIGTERM and
/// SIGHUP sent to the parent alone are passed on to the running stage and to the services.
enum ChildProcess {
    /// The running binary's path, so stages run the same build.
    static var selfPath: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// Starts `distill ARGS`; stdout/stderr inherited, or to `log` when given, or to `stdout`/`stderr` when given
    /// (the pipes `distill run` relays a stage through), with `environment` added to the inherited one.
    static func start(_ args: [String], log: String? = nil, stdout: FileHandle? = nil, stderr: FileHandle? = nil,
                      environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: selfPath)
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let stdout { p.standardOutput = stdout }
        if let stderr { p.standardError = stderr }
        if let log {
            FileManager.default.createFile(atPath: log, contents: nil, attributes: [.posixPermissions: 0o600])
            if let handle = FileHandle(forWritingAtPath: log) {
                p.standardOutput = handle
                p.standardError = handle
            }
        }
        try p.run()
        return p
    }

    /// Waits for `p` without blocking the cooperative pool; returns its exit status (128 + signal if killed).
    static func wait(_ p: Process) async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                p.waitUntilExit()
                let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
                c.resume(returning: status)
            }
        }
    }

    // MARK: - Signals

    /// Installs the relaying handlers (idempotent). Handlers revert to the default in children at exec.
    static func installSignalRelay() {
        _ = SignalRelay.interrupted
        signal(SIGINT) { _ in SignalRelay.interrupted = 1 }
        signal(SIGTERM) { sig in SignalRelay.relay(sig) }
        signal(SIGHUP) { sig in SignalRelay.relay(sig) }
    }

    static var interrupted: Bool { SignalRelay.interrupted != 0 }

    /// Registers the pids a stop signal is passed on to (stage first, then services).
    static func setRelayTargets(_ pids: [pid_t]) {
        SignalRelay.count = 0
        for (i, pid) in pids.prefix(SignalRelay.capacity).enumerated() { SignalRelay.targets[i] = pid }
        SignalRelay.count = Int32(min(pids.count, SignalRelay.capacity))
    }
}

/// State touched by the signal handlers: plain stores and kill(2) only (async-signal-safe).
private enum SignalRelay {
    static let capacity = 8
    nonisolated(unsafe) static var interrupted: Int32 = 0
    nonisolated(unsafe) static var count: Int32 = 0
    nonisolated(unsafe) static var targets = UnsafeMutablePointer<pid_t>.allocate(capacity: 8)

    static func relay(_ sig: Int32) {
        interrupted = 1
        var i: Int32 = 0
        while i < count {
            kill(targets[Int(i)], sig)
            i += 1
        }
    }
}
