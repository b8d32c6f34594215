import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// `distill bench train`'s breakdown: a profiled step times every phase it runs and leaves the step's bits alone.
@Suite struct TrainingProfileTests {
    @Test func profiledStepTimesEachPhaseAndGivesTheSameGradients() throws {
        let batch = TrainingMemoryTests.batches()[0]
        var gradients: [[Float]] = []
        var profile = TrainingProfile()
        for profiled in [false, true] {
            let model = try TrainableLlama(base: TrainingMemoryTests.randomBase(), mode: .full)
            profile = TrainingProfile()
            if profiled { model.profile = profile }
            model.zeroGradients()
            _ = try model.accumulateGradients(batch, lossScale: 0.01)
            gradients.append(Array(model.gradients))
        }
        let same = gradients[0] == gradients[1]
        #expect(same, "profiling changed the gradients")
        let phases: [TrainingProfile.Phase] = [.forwardProjections, .forwardAttention, .forwardOther, .head,
                                               .backwardProjections, .backwardAttention, .backwardOther]
        for phase in phases {
            #expect(profile.seconds[phase.rawValue] > 0, "\(phase.label) was not timed")
        }
        #expect(profile.seconds[TrainingProfile.Phase.optimizer.rawValue] == 0, "the model does not run the optimizer")
        #expect(abs(profile.total - profile.seconds.reduce(0, +)) < 1e-12)
        profile.reset()
        #expect(profile.total == 0)
    }
}
