import DistillData
import Foundation

/// A model that draws random numbers while training (LoRA dropout): where its stream stands, for checkpoints.
public protocol TrainingRandomState: AnyObject {
    var randomStream: UInt64 { get set }
}

/// The training loop, flat like llm.c's: for each optimiser step, zero the gradients, accumulate every micro-batch
/// with `lossScale = 1 / (target tokens of the whole step)`, clip by global norm, one AdamW update at the
/// scheduled rate. Nothing here draws random numbers: the plan (shuffle) is fixed by the seed up front, so the
/// same seed and data give the same weights bit for bit, and a resumed run continues at `step`.
public final class Trainer {
    public struct Settings: Sendable, Equatable {
        public var schedule: LearningRateSchedule
        public var optimizer: AdamW.Settings
        /// Global-norm clip (0 = off).
        public var clip: Double
        public var padID: Int32

        public init(schedule: LearningRateSchedule, optimizer: AdamW.Settings, clip: Double, padID: Int32) {
            self.schedule = schedule
            self.optimizer = optimizer
            self.clip = clip
            self.padID = padID
        }
    }

    /// What one optimiser step did.
    public struct StepResult: Sendable, Equatable {
        /// 1-based number of the step just finished.
        public var step: Int
        public var epoch: Int
        /// Mean cross-entropy per target token over the step's micro-batches.
        public var loss: Double
        public var lr: Double
        /// Global gradient norm before clipping.
        public var gradNorm: Double
        public var targets: Int
        /// Tokens fed (padding excluded).
        public var tokens: Int
    }

    public let model: any TrainableModel
    public let plan: TrainingPlan
    public let examples: [TrainingExample]
    public let validation: [TrainingExample]
    public let settings: Settings
    public let optimizer: AdamW
    /// Steps completed.
    public private(set) var step = 0
    public var bestEvalLoss: Double?
    public var bestStep: Int?

    public init(model: any TrainableModel, plan: TrainingPlan, examples: [TrainingExample], validation: [TrainingExample],
                settings: Settings) {
        self.model = model
        self.plan = plan
        self.examples = examples
        self.validation = validation
        self.settings = settings
        optimizer = AdamW(parameterCount: model.parameters.count, settings: settings.optimizer)
    }

    public var totalSteps: Int { plan.totalSteps }
    public var isFinished: Bool { step >= totalSteps }

    /// Runs optimiser step `step + 1`.
    public func runStep() throws -> StepResult {
        let (epoch, batches) = plan.microBatches(step: step)
        let built = batches.map { TrainingPlan.batch($0, examples: examples, padID: settings.padID) }
        let targets = built.reduce(0) { $0 + $1.targetCount }
        let tokens = batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.reduce(0) { $0 + examples[$1].tokens.count } } }
        model.zeroGradients()
        (model as? any TrainingStepObserver)?.willAccumulate(built)
        var lossSum = 0.0
        // Normalised by the target tokens of the whole step, not per micro-batch (every token weighs the same).
        let scale = targets > 0 ? 1 / Float(targets) : 0
        for b in built {
            let r = try model.accumulateGradients(b, lossScale: scale)
            lossSum += r.lossSum
        }
        let norm = AdamW.clip(model.gradients, maxNorm: settings.clip)
        let lr = settings.schedule.rate(at: step)
        optimizer.update(model.tensors, parameters: model.parameters, gradients: model.gradients, lr: Float(lr))
        step += 1
        return StepResult(step: step, epoch: epoch, loss: lossSum / Double(max(1, targets)), lr: lr, gradNorm: norm,
                          targets: targets, tokens: tokens)
    }

    /// Mean cross-entropy per target token over the validation set (nil when there is none).
    public func evaluate(batch: Int) throws -> Double? {
        guard !validation.isEmpty else { return nil }
        let batches = TrainingPlan.microBatches(order: Array(validation.indices), lengths: validation.map(\.tokens.count),
                                                batch: batch, maxSequence: plan.maxSequence, pack: plan.pack)
        var sum = 0.0
        var n = 0
        for rows in batches {
            let r = try model.evaluate(TrainingPlan.batch(rows, examples: validation, padID: settings.padID))
            sum += r.lossSum
            n += r.targets
        }
        return n > 0 ? sum / Double(n) : nil
    }

    /// The state to save: parameters, moments, step and best evaluation.
    public func checkpoint(fingerprint: String, withMoments: Bool = true) -> TrainingCheckpoint {
        TrainingCheckpoint(
            header: .init(step: step, fingerprint: fingerprint,
                          tensors: model.tensors.map { .init(name: $0.name, shape: $0.shape) },
                          bestEvalLoss: bestEvalLoss, bestStep: bestStep, hasMoments: withMoments,
                          randomStream: (model as? any TrainingRandomState)?.randomStream),
            parameters: Array(model.parameters), m: withMoments ? optimizer.m : [], v: withMoments ? optimizer.v : [])
    }

    /// Continues from `c`: refuses a checkpoint of another run or another tensor layout.
    public func restore(_ c: TrainingCheckpoint, path: String, fingerprint: String) throws {
        guard c.header.fingerprint == fingerprint else {
            throw DataError(file: path, "belongs to another run (fingerprint \(c.header.fingerprint.prefix(12))…, "
                + "this run \(fingerprint.prefix(12))…); use another --out")
        }
        let layout = model.tensors.map { TrainingCheckpoint.Header.Tensor(name: $0.name, shape: $0.shape) }
        guard c.header.tensors == layout, c.header.hasMoments, c.parameters.count == model.parameters.count else {
            throw DataError(file: path, "holds other tensors than this model trains; use another --out")
        }
        guard c.header.step <= totalSteps else {
            throw DataError(file: path, "is at step \(c.header.step) but this run has only \(totalSteps) steps")
        }
        _ = c.parameters.withUnsafeBufferPointer { model.parameters.update(fromContentsOf: $0) }
        optimizer.m = c.m
        optimizer.v = c.v
        optimizer.step = c.header.step
        if let stream = c.header.randomStream, let random = model as? any TrainingRandomState { random.randomStream = stream }
        step = c.header.step
        bestEvalLoss = c.header.bestEvalLoss
        bestStep = c.header.bestStep
    }
}
