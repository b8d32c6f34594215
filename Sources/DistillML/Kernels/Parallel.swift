import Foundation
import COpenBLAS

/// Row-parallel loops for kernels (the llm.c `#pragma omp parallel for` of this engine).
///
/// Kernels pass raw pointers into disjoint rows, which Swift's checker cannot prove safe across threads; the
/// unchecked box below is where that promise is made, once, instead of in every kernel.
public enum Parallel {
    /// Worker threads for our own kernels; BLAS gets the same count so the two never oversubscribe the cores.
    public nonisolated(unsafe) static var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Contiguous chunks per worker in `forEach`: more than one, so that when the OS deschedules one worker (a shared
    /// machine) the others take its remaining chunks instead of waiting for it at the join.
    static let chunksPerWorker = 4

    /// Runs `body(i)` for i in 0..<n over `threads` workers, in contiguous chunks handed out as workers free up.
    /// `body` must only write memory that no other `i` touches.
    public static func forEach(_ n: Int, _ body: (Int) -> Void) {
        let workers = min(threads, n)
        if workers <= 1 {
            for i in 0..<n { body(i) }
            return
        }
        let chunks = min(n, workers * chunksPerWorker)
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = n * c / chunks, hi = n * (c + 1) / chunks
                for i in lo..<hi { box.value(i) }
            }
        }
    }

    /// Sets our worker count and makes OpenBLAS single-threaded: `Kernels.matmul` splits each product over our
    /// workers itself, so exactly `threads` threads ever compute (OpenBLAS's own pool would spin between calls and
    /// oversubscribe the cores). Returns the worker count.
    @discardableResult
    public static func configureBLAS(threads: Int? = nil) -> Int {
        let n = max(1, threads ?? Self.threads)
        Self.threads = n
        openblas_set_num_threads(1)
        return n
    }

    /// Called once before the first kernel runs (LlamaModel.init), so library users get the setting too.
    static let blasConfigured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()
}

/// A value asserted to be safe to share across the workers of one `Parallel.forEach`.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
