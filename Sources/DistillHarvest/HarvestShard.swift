import DistillData
import Foundation

/// `--shard i/n`: this process works only on the items whose id hashes to shard i (1-based) of n. Deterministic, so
/// every machine computes the same split, and every item belongs to exactly one shard.
public struct HarvestShard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `i/n` with 1 ≤ i ≤ n.
    public init?(parsing s: String) {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// `--shard auto`: this task's shard from the scheduler that started it, so one command runs across machines.
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` within `SLURM_ARRAY_TASK_MIN…` (default 0), `SLURM_ARRAY_TASK_COUNT` tasks.
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (0-based) and the job's completions, which Kubernetes does
    ///   not export: set `DISTILL_SHARD_COUNT` (or `JOB_COMPLETIONS`) in the pod template.
    /// Returns nil with the reason when neither is there or the values do not fit.
    public static func fromEnvironment(_ env: [String: String]) -> Result<HarvestShard, ShardError> {
        func int(_ name: String) -> Int? { env[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        if let id = int("SLURM_ARRAY_TASK_ID") {
            guard let count = int("SLURM_ARRAY_TASK_COUNT"), count >= 1 else {
                return .failure(ShardError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not a positive number"))
            }
            let index = id - (int("SLURM_ARRAY_TASK_MIN") ?? 0) + 1
            guard (1...count).contains(index) else {
                return .failure(ShardError("Slurm array task \(id) is not one of \(count) tasks starting at "
                    + "\(int("SLURM_ARRAY_TASK_MIN") ?? 0); use a contiguous array (--array=0-\(count - 1))"))
            }
            return .success(HarvestShard(index: index, count: count))
        }
        if let k = int("JOB_COMPLETION_INDEX") {
            guard let count = int("DISTILL_SHARD_COUNT") ?? int("JOB_COMPLETIONS"), count >= 1 else {
                return .failure(ShardError("JOB_COMPLETION_INDEX is set but not the job's completions: set "
                    + "DISTILL_SHARD_COUNT to spec.completions in the pod template"))
            }
            guard (0..<count).contains(k) else {
                return .failure(ShardError("JOB_COMPLETION_INDEX \(k) is outside 0…\(count - 1)"))
            }
            return .success(HarvestShard(index: k + 1, count: count))
        }
        return .failure(ShardError("--shard auto found neither a Slurm array (SLURM_ARRAY_TASK_ID) nor a Kubernetes "
            + "Indexed Job (JOB_COMPLETION_INDEX); give --shard I/N"))
    }

    /// Why `--shard auto` could not tell the shard.
    public struct ShardError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ d: String) { description = d }
    }

    public func contains(_ itemID: String) -> Bool {
        Self.shard(of: itemID, count: count) == index
    }

    /// The 1-based shard an item id falls in: the first 8 bytes of its SHA-256, modulo n.
    public static func shard(of itemID: String, count: Int) -> Int {
        Int(KeyDigest(sha256Of: itemID).high % UInt64(count)) + 1
    }
}
