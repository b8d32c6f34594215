import DistillData
import Foundation
import Testing
@testable import DistillML

/// Kernel timings (RUN_BENCHMARKS=1): CPU seconds of this thread, so a loaded machine skews them less than wall time.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RUN_BENCHMARKS"] == "1", "set RUN_BENCHMARKS=1"))
struct KernelBenchmarks {
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @Test func matvecFp32VersusQuantised() throws {
        Parallel.configureBLAS(threads: 1)
        defer { Parallel.configureBLAS(threads: ProcessInfo.processInfo.activeProcessorCount) }
        let rows = 1536, cols = 576
        var rng = SplitMix64(seed: 1)
        let w = (0..<(rows * cols)).map { _ in Float(rng.nextUnit()) - 0.5 }
        let x = (0..<(cols * 64)).map { _ in Float(rng.nextUnit()) - 0.5 }
        var out = [Float](repeating: 0, count: rows * 64)
        let q8 = QuantizedMatrix(rows: rows, cols: cols, q8From: w)
        var q4Blocks = [UInt8](repeating: 0, count: rows * cols / 32 * 20)
        for i in q4Blocks.indices { q4Blocks[i] = UInt8(truncatingIfNeeded: rng.next()) }
        for b in 0..<(rows * cols / 32) {  // finite f16 scale and min
            q4Blocks[b * 20 + 1] = 0x20; q4Blocks[b * 20 + 3] = 0xA0
        }
        let q4 = q4Blocks.withUnsafeBytes { QuantizedMatrix(rows: rows, cols: cols, type: .q4_1, blocks: $0.baseAddress!) }
        let reps = 50
        for N in [1, 4, 8, 16, 64] {
            var t = Self.cpuSeconds()
            for _ in 0..<reps { Kernels.matmul(&out, x, w, nil, N: N, C: cols, OC: rows) }
            let f32 = (Self.cpuSeconds() - t) / Double(reps)
            t = Self.cpuSeconds()
            for _ in 0..<reps { q8.matmul(&out, x, N: N) }
            let q = (Self.cpuSeconds() - t) / Double(reps)
            t = Self.cpuSeconds()
            for _ in 0..<reps { q4.matmul(&out, x, N: N) }
            let q4t = (Self.cpuSeconds() - t) / Double(reps)
            let flop = 2.0 * Double(rows * cols * N)
            print(String(format: "N=%d  fp32 BLAS %.3f ms (%.1f GFLOP/s)  Q8 %.3f ms (%.1f)  Q4_1 %.3f ms (%.1f)", N, f32 * 1e3,
                         flop / f32 / 1e9, q * 1e3, flop / q / 1e9, q4t * 1e3, flop / q4t / 1e9))
        }
    }
}
