import Foundation

/// The CPU's feature flags as the Linux kernel reports them (`/proc/cpuinfo`). The kernel leaves out AVX-512 when the
/// OS does not save those registers, which a CPUID check alone would miss.
///
/// Lives here, in a module compiled for the baseline CPU, so that code checking whether the engine's AVX2 build can
/// run (DistillCLI's `EngineCPU`) and the engine choosing its int8 kernels (DistillML) read the flags one way.
public enum CPUFlags {
    /// This machine's flags; empty where `/proc/cpuinfo` cannot be read or has no "flags" line.
    public static let current: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        return parse(cpuinfo: text) ?? []
    }()

    /// The flags on the first "flags" line of a `/proc/cpuinfo` text; nil when it has none.
    public static func parse(cpuinfo: String) -> Set<String>? {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}
