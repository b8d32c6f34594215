import DistillData
import Foundation

/// The engine (DistillML) is compiled for AVX2 + FMA on x86-64 (Package.swift), so on an older CPU its first kernel
/// would die with "Illegal instruction". Commands that load a model check the CPU's flags first, from this module,
/// which is compiled for the baseline, and stop with what to do instead.
enum EngineCPU {
    /// The `/proc/cpuinfo` flags that `-target-cpu haswell` code may use; empty in builds for the baseline.
    static var needed: [String] {
        #if DISTILL_ENGINE_AVX2
        return ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt"]
        #else
        return []
        #endif
    }

    /// Throws when the CPU lacks a flag the engine was built for. Where the flags cannot be read (empty), goes on.
    static func check(flags: Set<String> = CPUFlags.current) throws {
        guard !needed.isEmpty, !flags.isEmpty else { return }
        let missing = needed.filter { !flags.contains($0) }
        if !missing.isEmpty { throw Unsupported(missing: missing) }
    }

    struct Unsupported: Error, CustomStringConvertible, Equatable {
        var missing: [String]
        var description: String {
            "this CPU lacks \(missing.joined(separator: ", ")), which this build of the engine uses (it is compiled for x86-64 "
                + "with AVX2 and FMA, Haswell or later). Build for the baseline instead: "
                + "DISTILL_PORTABLE=1 swift build -c release (much slower: there is no FMA instruction there)."
        }
    }
}
