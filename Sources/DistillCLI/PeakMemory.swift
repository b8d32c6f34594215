import Foundation

extension DistillCLI {
    /// With `DISTILL_PEAK_RSS_FILE=PATH` set, writes the process's peak resident memory (`VmHWM` of
    /// /proc/self/status, in KB) to PATH as it exits: what the memory tests and benchmarks read. A parent cannot
    /// measure it from outside: `wait4`'s `ru_maxrss` carries the parent's own mark into a spawned child, and VmHWM
    /// is gone by the time the child can be reaped. Does nothing when the variable is unset or /proc is missing.
    public static func reportPeakMemory() {
        guard let path = ProcessInfo.processInfo.environment["DISTILL_PEAK_RSS_FILE"], !path.isEmpty,
              let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return }
        let kilobytes = line.dropFirst(6).filter(\.isNumber)
        try? Data((kilobytes + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }
}
