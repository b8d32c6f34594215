import DistillData
import DistillClient
import DistillHarvest
import Foundation

/// `distill harvest merge`: joins the run directories of `--shard i/n` runs into one, by content key.
struct HarvestMergeCommand: DistillCommand {
    static let out: Option<String?> = .value("out", "RUN", help: "the merged run directory (created; must not hold another run)")
    static let partial: Option<Bool> = .flag("partial", help: "merge even when shards are missing (their items stay unharvested)")

    static let spec = CommandSpec(
        name: "merge",
        abstract: "join the journals of sharded harvest runs into one run directory",
        usage: "--out RUN SHARD_RUN…",
        discussion: """
        Every shard must come from the same command (same manifest fingerprint). The merged journal holds each
        completed request once (by content key); failures that another shard made good are dropped. Then run the
        original harvest command with --out RUN --offline to write the outputs from the merged journal (nothing is sent).
        """,
        options: [
            out,
            partial,
        ],
        examples: """
              # two machines ran the same harvest with --shard 1/2 and --shard 2/2 into runs/seqkd-1 and runs/seqkd-2
              distill harvest merge --out runs/seqkd runs/seqkd-1 runs/seqkd-2
              distill harvest --recipe answer --data datasets/instructions.jsonl --teacher deepseek --out runs/seqkd --offline
            """)

    let out: String
    let shards: [String]
    let partial: Bool

    init(_ args: ParsedArguments) throws {
        out = try args.required(Self.out)
        shards = args.positionals
        partial = args[Self.partial]
        guard !shards.isEmpty else { throw UsageError("give the shard run directories to merge") }
    }

    func run() async throws {
        var manifests: [HarvestManifest] = []
        for dir in shards {
            let path = dir + "/manifest.json"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DataError(file: path, "missing; \(dir) is not a harvest run directory")
            }
            do {
                manifests.append(try JSONDecoder().decode(HarvestManifest.self, from: data))
            } catch {
                throw DataError(file: path, "not a harvest manifest: \(JSONLines.describe(error))")
            }
        }
        guard var merged = manifests.first else { return }
        for (dir, m) in zip(shards, manifests).dropFirst() {
            let changes = merged.differences(from: m)
            if !changes.isEmpty {
                throw HarvestError(.fingerprintChanged, "\(dir) was made by a different command than \(shards[0]):\n  "
                    + changes.joined(separator: "\n  "))
            }
        }
        try Self.checkComplete(zip(shards, manifests.map(\.shard)).map { ($0, $1) }, partial: partial)
        merged.shard = nil
        let directory = try HarvestRunDirectory.open(out, manifest: merged)
        let target = try HarvestJournal(directory: directory.path)
        var added = 0
        var failures = 0
        for dir in shards {
            let source = try HarvestJournal(directory: dir)
            // One entry at a time, in the shard's file order (the order its requests completed): a shard's replies
            // never all sit in memory.
            try source.forEachEntry { entry in
                guard !target.contains(entry.key) else { return }
                try target.record(entry)
                added += 1
            }
            for failure in source.outstandingFailures where !target.contains(failure.key) && target.failure(failure.key) == nil {
                try target.recordFailure(failure)
                failures += 1
            }
        }
        DistillCLI.printError("merged \(shards.count) shards into \(out): \(added) requests added (\(target.count) in all), "
            + "\(failures) failures carried over. Now run the same harvest command with --out \(out) --offline to write the outputs.")
    }

    /// Refuses a merge that lacks a shard of the set (or holds one twice, or mixes counts), naming what is missing:
    /// a silently partial merge would train on a fraction of the data.
    static func checkComplete(_ shards: [(dir: String, shard: String?)], partial: Bool) throws {
        let parsed = shards.map { ($0.dir, $0.shard.flatMap(HarvestShard.init(parsing:))) }
        if let unsharded = parsed.first(where: { $0.1 == nil }) {
            throw HarvestError(.badInput, "\(unsharded.0) is not a --shard run (its manifest names no shard); merge joins "
                + "the runs of one sharded harvest")
        }
        let all = parsed.compactMap(\.1)
        guard let count = all.first?.count else { return }
        if all.contains(where: { $0.count != count }) {
            throw HarvestError(.badInput, "the shards were cut into different counts ("
                + Set(all.map(\.count)).sorted().map(String.init).joined(separator: ", ") + "); merge the runs of one --shard i/n set")
        }
        var seen: [Int: String] = [:]
        for (dir, shard) in parsed {
            guard let shard else { continue }
            if let other = seen[shard.index] {
                throw HarvestError(.badInput, "\(dir) and \(other) are both shard \(shard); give each shard once")
            }
            seen[shard.index] = dir
        }
        let missing = (1...count).filter { seen[$0] == nil }
        if !missing.isEmpty, !partial {
            throw HarvestError(.badInput, "shard(s) " + missing.map { "\($0)/\(count)" }.joined(separator: ", ")
                + " missing: their items would be left out of the merged run without a word — give every shard's run "
                + "directory, or pass --partial to merge what is there")
        }
    }
}
