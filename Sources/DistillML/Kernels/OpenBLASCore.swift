import COpenBLAS
import DistillData
import Foundation

/// Which kernel set OpenBLAS runs, and the one it should run on this CPU.
///
/// OpenBLAS (DYNAMIC_ARCH builds, e.g. Debian's 0.3.21) picks its kernels once, when the library loads, from the CPU
/// model; a CPU newer than the library (Sapphire Rapids under 0.3.21) falls back to `Prescott`, SSE3 kernels that run
/// sgemm ~5× slower (measured here: 18 vs 100 GFLOP/s per core). `OPENBLAS_CORETYPE` overrides the choice but is read
/// only at load time, so a program sets it and re-executes itself (`recommendedCoreType` says what to set).
public enum OpenBLASCore {
    /// The kernel set in use (`openblas_get_corename`), e.g. "Cooperlake", "Haswell", "Prescott".
    public static var current: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The `OPENBLAS_CORETYPE` to set when the kernels in use are older than what the CPU can run (AVX-512 → SkylakeX,
    /// AVX2 + FMA → Haswell); nil when they already fit or `DISTILL_KEEP_BLAS=1` asks to keep them.
    ///
    /// The kernels in use may come from the library's own detection or from `OPENBLAS_CORETYPE` already in the
    /// environment; either way older ones are replaced, and the command says so (`replacedCoreType`). This project's
    /// machines pin `OPENBLAS_CORETYPE=Haswell` (AVX2) even on AVX-512 CPUs, where the library alone would pick
    /// `Cooperlake`; measured on a Zen 5 EPYC (2 cores), `SkylakeX` instead of the pinned `Haswell` turns LoRA
    /// training from 328 into 560 tok/s and full fine-tuning from 242 into 437.
    public static func recommendedCoreType(flags: Set<String> = CPUFlags.current,
                                           environment: [String: String] = ProcessInfo.processInfo.environment,
                                           core: String = current) -> String? {
        guard environment["DISTILL_KEEP_BLAS"] != "1" else { return nil }
        let avx512Kernels = ["SkylakeX", "Cooperlake", "SapphireRapids"]
        if flags.contains("avx512f") && flags.contains("avx512bw") {
            return avx512Kernels.contains(core) ? nil : "SkylakeX"
        }
        let old: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
                                "Northwood", "Banias", "Athlon", "Opteron", "Barcelona", "Nano", "Unknown", "unknown",
                                "Sandybridge"]
        if flags.contains("avx2") && flags.contains("fma") && old.contains(core) { return "Haswell" }
        return nil
    }

    /// Set in a process that `distill` re-executed with newer kernels: what ran before, e.g. "Haswell, from
    /// OPENBLAS_CORETYPE in the environment".
    public static var replacedCoreType: String? { ProcessInfo.processInfo.environment["DISTILL_BLAS_REEXEC"] }

    /// One line naming the kernels in use and, when `distill` replaced older ones, which and how to keep them.
    public static var summary: String {
        guard let old = replacedCoreType else { return current }
        return "\(current), instead of \(old) (DISTILL_KEEP_BLAS=1 keeps those)"
    }
}

extension OpenBLASCore {
    /// OpenBLAS's own sgemm rate on one of a training step's shapes, `inp (N,C) · weight (OC,C)ᵀ` (GFLOP/s, wall
    /// clock): the physical limit a BLAS-bound training step is measured against. The best of `rounds` rounds of
    /// `repeats` products, since one product takes only milliseconds and a round can be caught by the scheduler.
    public static func sgemmRate(N: Int = 1024, C: Int = 576, OC: Int = 1536, repeats: Int = 8, rounds: Int = 5) -> Double {
        let x = [Float](repeating: 0.01, count: N * C), w = [Float](repeating: 0.02, count: OC * C)
        var y = [Float](repeating: 0, count: N * OC)
        Kernels.matmul(&y, x, w, nil, N: N, C: C, OC: OC)  // warm-up: threads started, pages touched
        var best = 0.0
        for _ in 0..<max(1, rounds) {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<max(1, repeats) { Kernels.matmul(&y, x, w, nil, N: N, C: C, OC: OC) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(max(1, repeats)) * 2 * Double(N * C * OC) / seconds / 1e9)
        }
        return best
    }
}
