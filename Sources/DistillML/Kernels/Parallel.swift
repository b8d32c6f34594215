import COpenBLAS
import Foundation
import Synchronization

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

    /// The spinning pool `forEach` uses (one decode step makes ~400 parallel calls of 5–50 µs each; waking sleeping
    /// threads for each cost a fifth of the step). Sized for every core; `threads` limits how many take part.
    private static let pool = WorkerPool(extraThreads: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

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
            let chunk: @Sendable (Int) -> Void = { c in
                let lo = n * c / chunks, hi = n * (c + 1) / chunks
                for i in lo..<hi { box.value(i) }
            }
            // The pool runs one loop at a time; a second caller (tests running models side by side, or a loop
            // nested in a worker) uses Dispatch's pool instead of waiting.
            if !pool.run(chunks: chunks, participants: workers, chunk) {
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk($0) }
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

/// Threads that spin briefly between loops, then sleep (the OpenMP / llama.cpp threadpool shape).
///
/// The caller posts a loop by bumping `generation`; workers claim chunk indices from `nextChunk` until none are
/// left, then decrement `running`. The caller works on chunks too and spins until `running` is zero, so `run`
/// returns only after every chunk has finished. A worker that saw no new loop for `spinLimit` polls sleeps on a
/// condition variable; `sleepers` (sequentially consistent against `generation`) tells the caller to wake it.
final class WorkerPool: @unchecked Sendable {
    private let extraThreads: Int
    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let nextChunk = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    // Written by the caller before `generation` is bumped (release), read by workers after they see it (acquire).
    private nonisolated(unsafe) var body: ((Int) -> Void)?
    private nonisolated(unsafe) var chunks = 0
    private nonisolated(unsafe) var participants = 0
    /// About 100–300 µs of polling: longer than the gaps inside a forward pass, far shorter than between requests.
    private let spinLimit = 20_000

    init(extraThreads: Int) {
        self.extraThreads = extraThreads
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for index in 0..<extraThreads {
            let thread = Thread { [unowned(unsafe) self] in self.workerLoop(index: index) }
            thread.name = "distill-kernel-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `chunk(0..<chunks)` on the caller and `participants − 1` workers; false (nothing run) if the pool is in
    /// use or too small.
    /// `chunk` is escaping only in type: every worker has dropped it when this returns.
    func run(chunks: Int, participants: Int, _ chunk: @escaping (Int) -> Void) -> Bool {
        guard participants - 1 <= extraThreads,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        body = chunk
        self.chunks = chunks
        self.participants = participants
        nextChunk.store(0, ordering: .relaxed)
        running.store(extraThreads, ordering: .relaxed)  // every worker acknowledges, taking part or not
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&condition)
            pthread_mutex_unlock(&mutex)
        }
        drain(chunk)
        // Spin on the counter (Swift cannot emit x86 `pause`, a clang builtin; the atomic load is the whole poll).
        while running.load(ordering: .acquiring) > 0 {}
        body = nil
        return true
    }

    private func drain(_ chunk: (Int) -> Void) {
        while true {
            let c = nextChunk.add(1, ordering: .relaxed).oldValue
            guard c < chunks else { return }
            chunk(c)
        }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinLimit { continue }
                pthread_mutex_lock(&mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(&condition, &mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(&mutex)
            }
            seen = generation.load(ordering: .acquiring)
            // Workers beyond this loop's participant count only acknowledge it.
            if index < participants - 1 { work() }
            running.subtract(1, ordering: .releasing)
        }
    }

    /// Drains the current loop through the stored closure, holding no copy of it past the last chunk.
    @inline(never) private func work() {
        guard let body else { return }
        drain(body)
    }
}
