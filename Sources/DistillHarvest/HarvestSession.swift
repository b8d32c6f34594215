import DistillClient
import DistillData
import Foundation

/// The one path by which recipes ask the teacher anything. `complete` answers from the journal when the request's
/// content key was recorded (in this run or an earlier one), so a resumed run never pays twice; otherwise it checks
/// the budget, sends the request through the client, and journals the response before returning it. Recipes are
/// written as if every request were fresh; resuming is replaying them against the journal.
public final class HarvestSession: @unchecked Sendable {
    public struct Options: Sendable {
        /// Send again the requests `failures.jsonl` lists (otherwise they stay failed).
        public var retryFailed = false
        /// Send nothing: count requests and estimate tokens and cost instead.
        public var dryRun = false
        /// Stop (cleanly, keeping results) before a request would take spending past this many USD.
        public var budget: Double? = nil
        public var price: TeacherPrice = .free
        public var estimator: TokenEstimator = .heuristic
        /// Completion tokens to assume per request when estimating (default: the request's max_tokens, else 256).
        public var expectedOutputTokens: Int? = nil
        /// Items worked on at once.
        public var concurrency = 16
        /// Work only on this shard's items.
        public var shard: HarvestShard? = nil
        /// Stop the run after this many failures in a row with no success (a dead endpoint, a revoked key).
        public var maxConsecutiveFailures = 25
        /// Returns a reason when an error from the client must stop the whole run rather than fail one request
        /// (quota exhausted, key rejected). Cancellation always stops the run.
        public var stopsRun: @Sendable (any Error) -> String? = { _ in nil }
        /// After a stop, requests still in flight get this long to finish (and be journaled) before they are
        /// abandoned (cancelled: a request stuck in retries or waiting on a limiter must not hold the exit).
        public var stopGrace: Duration = .seconds(15)
        /// Never send: a request not in the journal fails (renders outputs from merged shard journals).
        public var offline = false
        /// Batch mode: a request not in the journal is collected into this spool for the next batch instead of
        /// sent, and its item waits (it is neither done nor failed). Keys already in a submitted batch are not
        /// collected again.
        public var deferTo: BatchSpool? = nil
        public var keysInFlightInBatches: Set<String> = []

        public init() {}
    }

    /// What a dry run counted.
    public struct Estimate: Sendable {
        /// Stages whose completion length came from the journal's mean rather than max_tokens.
        public var calibratedStages: [String: Int] = [:]
        public var requests = 0
        public var cachedRequests = 0
        public var tokensIn = 0
        public var tokensOut = 0
        public var cost = 0.0
    }

    public let client: any ChatCompleting
    public let journal: HarvestJournal
    public let stats: HarvestStats
    public let options: Options
    /// Where `forEachItem` writes each item's rows, in item order, as items finish (nil: it returns them).
    public let output: HarvestOutputWriter?
    /// What the requests already in the journal cost at this run's price: the spend of earlier invocations of the
    /// same run, so `--budget` caps the run's total rather than each invocation.
    public let priorSpend: Double

    // Guarded by `lock`.
    private let lock = NSLock()
    /// Stage → mean completion tokens seen in the journal (dry runs only).
    private let calibration: [String: Int]
    private var reservedCost = 0.0
    private var consecutiveFailures = 0
    private var stopReason: String?
    private var estimate = Estimate()
    private var failedItems: [(id: String, reason: String)] = []
    private var skippedItems = 0
    private var notes: [String] = []
    private var truncatedReplies = 0
    private var inFlight: [UUID: Task<ChatResponse, any Error>] = [:]

    public init(client: any ChatCompleting, journal: HarvestJournal, stats: HarvestStats = HarvestStats(),
                options: Options = Options(), output: HarvestOutputWriter? = nil) {
        self.client = client
        self.journal = journal
        self.stats = stats
        self.options = options
        self.output = output
        calibration = options.dryRun ? Self.completionCalibration(journal) : [:]
        priorSpend = Self.spend(journal, price: options.price)
    }

    /// The cost of every journaled reply at `price` (replies without usage count as free: the server sent none).
    public static func spend(_ journal: HarvestJournal, price: TeacherPrice) -> Double {
        guard price != .free else { return 0 }
        var total = 0.0
        // An estimate: a journal that cannot be read back (it was read whole when opened) counts what was read.
        try? journal.forEachEntry { e in
            if let u = e.response.usage { total += price.cost(input: u.promptTokens, output: u.completionTokens) }
        }
        return total
    }

    /// The most a request can cost: its prompt estimate with a 25% margin (estimators undercount some scripts) and
    /// every choice running to max_tokens. Reserved against the budget before the request is sent.
    func worstCaseCost(_ request: ChatRequest, promptEstimate: Int, outputEstimate: Int) -> Double {
        let prompt = promptEstimate + promptEstimate / 4 + 8
        let output = max(request.maxTokens ?? outputEstimate, outputEstimate) * max(1, request.n ?? 1)
        return options.price.cost(input: prompt, output: output)
    }

    /// Spend of the whole run so far: earlier invocations plus this one's finished requests.
    public var runSpend: Double { priorSpend + stats.spent }

    /// Mean completion tokens per stage over the journal's replies (stages with at least 5), so a dry run over a
    /// partly harvested run estimates the rest from what the teacher actually wrote rather than from max_tokens.
    static func completionCalibration(_ journal: HarvestJournal) -> [String: Int] {
        var sums: [String: (total: Int, count: Int)] = [:]
        try? journal.forEachEntry { e in
            guard let tokens = e.response.usage?.completionTokens else { return }
            let stage = e.stage.hasPrefix("counterfactual-") ? "counterfactual" : e.stage
            sums[stage, default: (0, 0)].total += tokens
            sums[stage, default: (0, 0)].count += 1
        }
        return sums.filter { $0.value.count >= 5 }.mapValues { Int((Double($0.total) / Double($0.count)).rounded()) }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    public var isDryRun: Bool { options.dryRun }
    /// Why the run stopped early, if it did.
    public var stopped: String? { locked { stopReason } }
    public var dryRunEstimate: Estimate {
        locked {
            var e = estimate
            e.calibratedStages = calibration
            return e
        }
    }
    /// Items that failed (id and the reason), in the order they failed.
    public var itemFailures: [(id: String, reason: String)] { locked { failedItems } }
    /// Items left to other shards.
    public var itemsSkippedByShard: Int { locked { skippedItems } }

    /// Things the end-of-run summary must say (a recipe that fell short of its target, truncated replies kept).
    public var runNotes: [String] {
        locked {
            guard truncatedReplies > 0 else { return notes }
            return notes + ["\(truncatedReplies) replies were cut off at max_tokens (finish_reason \"length\"): their rows "
                + "carry \"truncated\": true (data convert drops them) — raise --max-tokens to get whole replies"]
        }
    }

    /// Replies used by this run that the teacher cut off at max_tokens.
    public var truncatedCount: Int { locked { truncatedReplies } }

    private func noteIfTruncated(_ r: RecordedResponse) {
        if r.choices.contains(where: { $0.finishReason == "length" }) { locked { truncatedReplies += 1 } }
    }

    /// Adds a line to the end-of-run summary.
    public func note(_ line: String) {
        locked { notes.append(line) }
    }

    /// Stops the run: no new request is sent; requests in flight finish and are journaled.
    public func stop(_ reason: String) {
        let first = locked { () -> Bool in
            guard stopReason == nil else { return false }
            stopReason = reason
            return true
        }
        guard first else { return }
        let grace = options.stopGrace
        Task { [self] in
            try? await Task.sleep(for: grace)
            for task in locked({ Array(inFlight.values) }) { task.cancel() }
        }
    }

    /// The teacher's response to `request`, as stage `stage`, sample `sample` of item `item`.
    public func complete(item: String, stage: String, sample: Int = 0, _ request: ChatRequest) async throws -> RecordedResponse {
        let key = HarvestKey(item: item, stage: stage, sample: sample, request: request)
        if let entry = try journal.recorded(key.id) {
            if options.dryRun { locked { estimate.cachedRequests += 1 } } else { stats.noteResumed() }
            if !options.dryRun { noteIfTruncated(entry.response) }
            return entry.response
        }
        if let stop = stopped { throw HarvestError(.stopped, stop) }
        if let failure = journal.failure(key.id), !options.retryFailed {
            if !options.dryRun { stats.noteFailedEarlier() }
            throw HarvestRequestFailed(key: key, reason: "failed in an earlier run (\(failure.reason)); "
                + "pass --retry-failed to send it again")
        }
        let promptEstimate = options.estimator.promptTokens(request.messages)
        let calibrated = calibration[stage.hasPrefix("counterfactual-") ? "counterfactual" : stage]
        let outputEstimate = options.expectedOutputTokens ?? calibrated ?? request.maxTokens ?? 256
        let costEstimate = options.price.cost(input: promptEstimate, output: outputEstimate)
        if options.dryRun {
            locked {
                estimate.requests += 1
                estimate.tokensIn += promptEstimate
                estimate.tokensOut += outputEstimate
                estimate.cost += costEstimate
            }
            return RecordedResponse(id: "dry-run", model: request.model,
                                    choices: [.init(index: 0, content: options.estimator.filler(tokens: outputEstimate),
                                                    finishReason: "stop", logprobs: nil)],
                                    usage: ChatUsage(promptTokens: promptEstimate, completionTokens: outputEstimate))
        }
        if let spool = options.deferTo {
            if !options.keysInFlightInBatches.contains(key.id) { spool.add(key, request) }
            throw HarvestDeferred()
        }
        if options.offline {
            throw HarvestRequestFailed(key: key, reason: "not in the journal (offline: nothing is sent)")
        }
        let reservation = worstCaseCost(request, promptEstimate: promptEstimate, outputEstimate: outputEstimate)
        try admit(reservation)
        stats.noteStarted()
        let response: ChatResponse
        let id = UUID()
        let client = client
        let call = Task { try await client.complete(request) }
        locked { inFlight[id] = call }
        do {
            defer { locked { inFlight[id] = nil } }
            response = try await withTaskCancellationHandler { try await call.value } onCancel: { call.cancel() }
        } catch {
            locked { reservedCost -= reservation }
            if call.isCancelled {
                // Abandoned after a stop (or cancelled from outside): not a failure of this request; it is sent
                // again on resume.
                stats.noteAbandoned()
                throw HarvestError(.stopped, stopped ?? "cancelled")
            }
            throw try handleFailure(error, key: key)
        }
        locked {
            reservedCost -= reservation
            consecutiveFailures = 0
        }
        let recorded = RecordedResponse(response)
        noteIfTruncated(recorded)
        do {
            try journal.record(HarvestJournalEntry(key: key, response: recorded))
        } catch {
            stats.noteFailed()
            stop("cannot write the journal: \(error)")
            throw HarvestError(.stopped, "cannot write the journal: \(error)")
        }
        let tokensIn = response.usage?.promptTokens ?? promptEstimate
        let tokensOut = response.usage?.completionTokens ?? outputEstimate
        stats.noteSent(tokensIn: tokensIn, tokensOut: tokensOut, cost: options.price.cost(input: tokensIn, output: tokensOut))
        return recorded
    }

    /// Reserves the request's worst-case cost, or stops the run if it could take the run's total past the budget.
    /// Requests in flight hold their reservation until they finish, so concurrency cannot overshoot the cap.
    private func admit(_ cost: Double) throws {
        try locked {
            if let stopReason { throw HarvestError(.stopped, stopReason) }
            if let budget = options.budget, priorSpend + stats.spent + reservedCost + cost > budget {
                // No figure here: requests still in flight finish after this; the summary reports the final spend.
                let reason = "budget reached (the next request could go past --budget)"
                stopReason = reason
                throw HarvestError(.stopped, reason)
            }
            reservedCost += cost
        }
    }

    /// Records a failed request (or stops the run) and returns the error to throw to the recipe.
    private func handleFailure(_ error: any Error, key: HarvestKey) throws -> any Error {
        stats.noteFailed()
        if error is CancellationError {
            stop("cancelled")
            return HarvestError(.stopped, "cancelled")
        }
        if let reason = options.stopsRun(error) {
            stop(reason)
            return HarvestError(.stopped, reason)
        }
        let reason = String(describing: error)
        try journal.recordFailure(HarvestFailure(key: key, reason: reason))
        let tooMany = locked { () -> Bool in
            consecutiveFailures += 1
            return consecutiveFailures >= options.maxConsecutiveFailures
        }
        if tooMany {
            stop("the teacher failed \(options.maxConsecutiveFailures) requests in a row (last: \(reason)); "
                + "stopping — fix the endpoint and run the same command to resume (add --retry-failed to resend these)")
        }
        return HarvestRequestFailed(key: key, reason: reason)
    }

    /// Runs `body` on every item of this shard, `options.concurrency` at a time, and hands each item's rows on in item
    /// order: to `output` when the session has one (then it returns nothing), else in the returned files. An item
    /// that failed, was left to another shard, or was not reached before a stop adds no row.
    ///
    /// Items are read from `items` as they are started, and no item starts more than `window` places after the
    /// oldest unfinished one, so memory holds the items in flight and the finished rows waiting on a slower earlier
    /// item — never the whole input. (A stuck item holds the run to `window` items ahead of it; they go on when it
    /// finishes, fails or is abandoned.) Throws only if the input cannot be read again, or an output cannot be written.
    public func forEachItem<Item: Sendable>(_ items: HarvestItems<Item>, id: @escaping @Sendable (Item) -> String,
                                           body: @escaping @Sendable (Item) async throws -> HarvestOutput) async throws -> [String: [Data]] {
        let width = max(1, options.concurrency)
        let window = max(64, width * 8)
        var iterator = try items.makeIterator()
        var collected: [String: [Data]] = [:]
        // Finished items not yet handed on, by index; `emitted` items have been.
        var finished: [Int: HarvestOutput] = [:]
        var emitted = 0
        var readError: (any Error)?
        var writeError: (any Error)?
        let output = options.dryRun ? nil : self.output

        func emit(_ out: HarvestOutput) {
            // A dry run's rows (filler replies) are never written: dropping them keeps its memory to the items in flight.
            guard !options.dryRun, writeError == nil else { return }
            for (file, lines) in out.rows.sorted(by: { $0.key < $1.key }) {
                if let output {
                    do { try output.append(file, lines) } catch { writeError = error; stop("cannot write the outputs: \(error)") }
                } else {
                    collected[file, default: []].append(contentsOf: lines)
                }
            }
        }
        func finish(_ index: Int, _ out: HarvestOutput) {
            finished[index] = out
            while let next = finished.removeValue(forKey: emitted) {
                emit(next)
                emitted += 1
            }
        }

        await withTaskGroup(of: (Int, HarvestOutput).self) { group in
            var next = 0
            var running = 0
            /// Starts the next item of this shard, if the window allows; items of other shards finish at once.
            func launchNext() -> Bool {
                while next - emitted < window, readError == nil {
                    let item: Item
                    do {
                        guard let read = try iterator.next() else { return false }
                        item = read
                    } catch {
                        readError = error
                        stop("cannot read the input again: \(error)")
                        return false
                    }
                    let index = next
                    next += 1
                    let itemID = id(item)
                    if let shard = options.shard, !shard.contains(itemID) {
                        locked { skippedItems += 1 }
                        finish(index, HarvestOutput())
                        continue
                    }
                    running += 1
                    group.addTask { [self] in
                        do {
                            return (index, try await body(item))
                        } catch let e as HarvestError where e.kind == .stopped {
                            return (index, HarvestOutput())
                        } catch is HarvestDeferred {
                            return (index, HarvestOutput())
                        } catch let e as HarvestRequestFailed {
                            locked { failedItems.append((itemID, "\(e.key.stage)#\(e.key.sample): \(e.reason)")) }
                            return (index, HarvestOutput())
                        } catch {
                            locked { failedItems.append((itemID, String(describing: error))) }
                            return (index, HarvestOutput())
                        }
                    }
                    return true
                }
                return false
            }
            while running < width, launchNext() {}
            for await (index, out) in group {
                running -= 1
                finish(index, out)
                if stopped == nil { while running < width, launchNext() {} }
            }
        }
        // After a stop, rows of items that finished after a gap are still handed on, in item order.
        for index in finished.keys.sorted() { if let out = finished[index] { emit(out) } }
        if let error = readError ?? writeError { throw error }
        return collected
    }

    /// `forEachItem` over items in memory.
    public func forEachItem<Item: Sendable>(_ items: [Item], id: @escaping @Sendable (Item) -> String,
                                           body: @escaping @Sendable (Item) async throws -> HarvestOutput) async throws -> [String: [Data]] {
        try await forEachItem(HarvestItems(items), id: id, body: body)
    }
}

/// One item's rows for each output file, already encoded as JSON lines.
public struct HarvestOutput: Sendable {
    public var rows: [String: [Data]] = [:]
    public init() {}

    public mutating func add<T: Encodable>(_ file: String, _ row: T) throws {
        rows[file, default: []].append(try JSONLines.encoder.encode(row))
    }
}
