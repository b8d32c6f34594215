import DistillData
import Foundation

/// SIGINT, SIGTERM and SIGHUP, handled alike by every command that writes outputs. The first one calls `onStop`
/// (a harvest stops sending, lets the requests in flight finish, journals them and writes its outputs); a second one
/// exits at once. Either way no hidden temporary file is left behind, and the exit status is 128 + the signal
/// (130 for Ctrl-C), as a shell reports a command ended by that signal.
final class StopSignals: @unchecked Sendable {
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    // Touched only on `queue`.
    private var sources: [any DispatchSourceSignal] = []
    private var received: Int32?
    private let queue = DispatchQueue(label: "distill.stop-signals")

    /// The first signal received, if any (read after the work ends, to choose the exit status).
    var signal: Int32? { queue.sync { received } }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "Ctrl-C"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }

    /// Starts handling the signals; `onStop` runs once, on the first one. With `onStop` nil the first signal removes
    /// temporary files and exits (commands with nothing to finish, such as `data convert`).
    func install(onStop: (@Sendable (Int32) -> Void)?) {
        queue.sync {
            for sig in Self.handled {
                Foundation.signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { [self] in
                    guard received == nil, let onStop else { Self.exitNow(sig) }
                    received = sig
                    onStop(sig)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    func remove() {
        queue.sync {
            for s in sources { s.cancel() }
            sources = []
            for sig in Self.handled { Foundation.signal(sig, SIG_DFL) }
        }
    }

    /// Removes temporary files and exits with 128 + `signal`.
    static func exitNow(_ signal: Int32) -> Never {
        TemporaryFiles.removeAll()
        exit(128 + signal)
    }
}

/// Thrown by a command that stopped cleanly on a signal after writing its outputs: the exit status says so.
struct StoppedBySignal: Error, CustomStringConvertible {
    var signal: Int32
    var message: String
    var description: String { message }
    var exitCode: Int32 { 128 + signal }
}
