import DistillData
import Foundation

/// Everything `distill train` learns from: the tokenised examples of every `--data` file, split into training
/// and validation, with what was left out and why.
public struct TrainingData: Sendable {
    public var train: [TrainingExample]
    public var validation: [TrainingExample]
    /// Items left out, by reason, over all files.
    public var dropped: [TrainingDropReason: Int]
    /// Items cut to `--max-seq` (kept: they still have targets).
    public var truncated: Int

    public init(train: [TrainingExample], validation: [TrainingExample], dropped: [TrainingDropReason: Int] = [:],
                truncated: Int = 0) {
        self.train = train
        self.validation = validation
        self.dropped = dropped
        self.truncated = truncated
    }

    /// Reads and tokenises `files`; a file with no trainable token at all is refused, naming it, before any training.
    /// `validationFraction` of the items (chosen by a seeded shuffle, at least one when the fraction is above 0 and
    /// there are two or more items) is held out.
    public static func load(files: [String], tokenizer: TrainingTokenizer, validationFraction: Double,
                            seed: UInt64) throws -> TrainingData {
        var all: [TrainingExample] = []
        var dropped: [TrainingDropReason: Int] = [:]
        var truncated = 0
        for file in files {
            let (conversations, dropsWhileReading) = try TrainingItemReader(path: file).read()
            var fileDropped = dropsWhileReading
            let items = conversations.count + dropsWhileReading.values.reduce(0, +)
            var kept = 0
            for c in conversations {
                switch tokenizer.encode(c) {
                case .success(let r):
                    all.append(r.example)
                    if r.truncated { truncated += 1 }
                    kept += 1
                case .failure(let reason):
                    fileDropped[reason, default: 0] += 1
                }
            }
            dropped.merge(fileDropped, uniquingKeysWith: +)
            guard kept > 0 else {
                let why = fileDropped.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.rawValue)" }
                throw DataError(file: file, "no trainable tokens: none of its \(items) "
                    + "items has an assistant reply that survives"
                    + (why.isEmpty ? "" : " (dropped: " + why.joined(separator: ", ") + ")")
                    + "; check the file is what harvest wrote, or raise --max-seq")
            }
        }
        let (train, validation) = split(all, fraction: validationFraction, seed: seed)
        return TrainingData(train: train, validation: validation, dropped: dropped, truncated: truncated)
    }

    /// A seeded split: the same items and seed give the same two sets on every machine.
    public static func split(_ items: [TrainingExample], fraction: Double, seed: UInt64)
        -> (train: [TrainingExample], validation: [TrainingExample]) {
        guard fraction > 0, items.count >= 2 else { return (items, []) }
        let n = min(items.count - 1, max(1, Int((Double(items.count) * fraction).rounded())))
        let order = TrainingPlan.shuffled(items.count, seed: seed ^ 0x5EED_5A11_7000_0001)
        let held = Set(order.prefix(n))
        return (items.indices.filter { !held.contains($0) }.map { items[$0] },
                items.indices.filter { held.contains($0) }.map { items[$0] })
    }

    /// Target tokens in the training set.
    public var trainTargets: Int { train.reduce(0) { $0 + $1.targetCount } }
}
