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
    /// AVX2 + FMA → Haswell); nil when they already fit or the variable is already set.
    public static func recommendedCoreType(flags: Set<String> = CPUFlags.current,
                                           environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        let old: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
                                "Northwood", "Banias", "Athlon", "Opteron", "Barcelona", "Nano", "Unknown", "unknown"]
        let core = current
        let modern = ["SkylakeX", "Cooperlake", "SapphireRapids", "Haswell", "Zen"]
        if flags.contains("avx512f") && flags.contains("avx512bw") && !["SkylakeX", "Cooperlake", "SapphireRapids"].contains(core) {
            return old.contains(core) || !modern.contains(core) ? "SkylakeX" : nil
        }
        if flags.contains("avx2") && flags.contains("fma") && (old.contains(core) || core == "Sandybridge") { return "Haswell" }
        return nil
    }
}

extension OpenBLASCore {
    /// OpenBLAS's own sgemm rate on one of a training step's shapes, `inp (N,C) · weight (OC,C)ᵀ` (GFLOP/s, wall
    /// clock): the physical limit a BLAS-bound training step is measured against.
    public static func sgemmRate(N: Int = 1024, C: Int = 576, OC: Int = 1536, repeats: Int = 4) -> Double {
        let x = [Float](repeating: 0.01, count: N * C), w = [Float](repeating: 0.02, count: OC * C)
        var y = [Float](repeating: 0, count: N * OC)
        Kernels.matmul(&y, x, w, nil, N: N, C: C, OC: OC)  // warm-up: threads started, pages touched
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<max(1, repeats) { Kernels.matmul(&y, x, w, nil, N: N, C: C, OC: OC) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(max(1, repeats)) * 2 * Double(N * C * OC) / seconds / 1e9
    }
}
