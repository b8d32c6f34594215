import DistillClient
import DistillData
import Foundation

/// Runs a recipe in a run directory from start (or resume) to written outputs: optional budget check by a dry run
/// over the journal, the run itself with a progress ticker, outputs written atomically from what the journal holds,
/// and a summary. The CLI and `distill run` both drive harvests through this.
public enum HarvestRunner {
    /// What a finished (or stopped) run did.
    public struct Summary: Sendable {
        public var directory: String
        public var stats: HarvestStats.Snapshot
        /// Output file → rows written.
        public var outputs: [String: Int]
        /// Items that failed, with the reason.
        public var failedItems: [(id: String, reason: String)]
        /// Requests in `failures.jsonl` not made good.
        public var outstandingFailures: Int
        public var skippedByShard: Int
        public var stopped: String?
        /// What earlier invocations of this run spent (from the journal, at this run's price).
        public var priorSpend: Double = 0
        /// Lines the summary must say (shortfalls, truncated replies).
        public var notes: [String] = []
        /// The run's total spend: earlier invocations plus this one.
        public var runSpend: Double { priorSpend + stats.cost }
        /// The dry-run estimate (for `--dry-run`, or the budget check).
        public var estimate: HarvestSession.Estimate?
    }

    /// Estimates what running `recipe` would still send: requests already journaled are free.
    public static func estimate(_ recipe: any HarvestRecipe, journal: HarvestJournal,
                                options: HarvestSession.Options) async throws -> HarvestSession.Estimate {
        var dry = options
        dry.dryRun = true
        dry.budget = nil
        let session = HarvestSession(client: NeverSends(), journal: journal, options: dry)
        _ = try await recipe.run(session)
        return session.dryRunEstimate
    }

    /// Runs `recipe` in `directory` through `client`. `onStart` receives the session (to stop it on a signal);
    /// `progress` receives the progress line about every `progressInterval` seconds and once at the end.
    public static func run(_ recipe: any HarvestRecipe, in directory: HarvestRunDirectory, client: any ChatCompleting,
                           options: HarvestSession.Options, sync: SyncPolicy = .flush, stats: HarvestStats = HarvestStats(),
                           rpmLimit: Int? = nil, tpmLimit: Int? = nil, progressInterval: Double = 0.5,
                           onStart: @Sendable (HarvestSession) -> Void = { _ in },
                           progress: @escaping @Sendable (String, _ final: Bool) -> Void = { _, _ in }) async throws -> Summary {
        let journal = try HarvestJournal(directory: directory.path, sync: sync)
        if options.dryRun || options.budget != nil {
            let estimate = try await estimate(recipe, journal: journal, options: options)
            if options.dryRun {
                return Summary(directory: directory.path, stats: stats.snapshot(), outputs: [:], failedItems: [],
                               outstandingFailures: journal.outstandingFailures.count, skippedByShard: 0, stopped: nil,
                               estimate: estimate)
            }
            let prior = HarvestSession.spend(journal, price: options.price)
            if let budget = options.budget, prior >= budget, estimate.requests > 0 {
                throw HarvestError(.overBudget, String(
                    format: "this run has already spent $%.4f of --budget $%.4f ($0.0000 left; the budget caps the run's "
                        + "total across invocations); nothing was sent — to continue, pass a larger --budget (the total "
                        + "you allow for the whole run)", prior, budget))
            }
            if let budget = options.budget, prior + estimate.cost > budget {
                throw HarvestError(.overBudget, String(
                    format: "the estimate for what is left to send is $%.4f (%d requests, %d tokens in, %d out), above "
                        + "the $%.4f left of --budget $%.4f ($%.4f already spent by this run); nothing was sent — raise "
                        + "--budget (it caps the run's total), lower the work (--samples, --paths, --max-tokens), or set "
                        + "--expected-output-tokens if replies are shorter than --max-tokens",
                    estimate.cost, estimate.requests, estimate.tokensIn, estimate.tokensOut, max(0, budget - prior), budget, prior))
            }
        }
        // Rows stream to temporaries as items finish (in item order) and replace the outputs at the end.
        let writer = HarvestOutputWriter(directory: directory.path)
        let session = HarvestSession(client: client, journal: journal, stats: stats, options: options, output: writer)
        onStart(session)
        stats.plan(recipe.plannedRequests)
        let label = "harvest \(recipe.name)"
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(progressInterval))
                if Task.isCancelled { break }
                progress(stats.snapshot().line(label: label, rpmLimit: rpmLimit, tpmLimit: tpmLimit), false)
            }
        }
        let outputs: [String: Int]
        do {
            let files = try await recipe.run(session)
            ticker.cancel()
            outputs = try writer.finish(returned: files, in: directory)
        } catch {
            ticker.cancel()
            writer.discard()
            throw error
        }
        try journal.rewriteFailures()
        let snapshot = stats.snapshot()
        progress(snapshot.line(label: label, rpmLimit: rpmLimit, tpmLimit: tpmLimit), true)
        return Summary(directory: directory.path, stats: snapshot, outputs: outputs,
                       failedItems: session.itemFailures, outstandingFailures: journal.outstandingFailures.count,
                       skippedByShard: session.itemsSkippedByShard, stopped: session.stopped,
                       priorSpend: session.priorSpend, notes: session.runNotes, estimate: nil)
    }
}

/// The client of a dry run: every request is answered by the session before it gets here.
struct NeverSends: ChatCompleting {
    func complete(_ request: ChatRequest) async throws -> ChatResponse {
        throw HarvestError(.stopped, "internal error: a dry run tried to send a request")
    }
}
