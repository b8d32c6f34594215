import Foundation
import DistillData
import Testing
@testable import DistillML

/// The vectorised e^x, softmax, SiLU and argmax against libm / scalar definitions.
@Suite struct VectorKernelTests {
    @Test func vectorExpIsWithinFewUlpOfLibm() {
        var worst = 0.0
        var x: Float = -87
        while x + 0.0707 <= 88 {  // all 8 lanes inside the documented range
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0101 })
            let got = Kernels.exp(lanes)
            for i in 0..<8 {
                let want = Foundation.exp(Double(lanes[i]))
                worst = max(worst, abs(Double(got[i]) - want) / want)
            }
            x += 0.0917
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        // Clamped, never inf or NaN, far outside the range.
        let far = Kernels.exp(SIMD8<Float>(-1e30, -1000, -88, 88.5, 1000, 1e30, 0, 1))
        #expect((0..<8).allSatisfy { far[$0].isFinite } && far[6] == 1 && far[0] < 1e-37)
    }

    @Test func softmaxAndSwigluMatchScalarDefinitions() {
        var rng = SplitMix64(seed: 7)
        for count in [1, 7, 8, 9, 67, 200] {
            let x = (0..<count).map { _ in Float(rng.nextUnit()) * 40 - 20 }
            var y = x
            y.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, count: count) }
            let m = Double(x.max() ?? 0)
            let z = x.map { Foundation.exp(Double($0) - m) }.reduce(0, +)
            for i in 0..<count { #expect(abs(Double(y[i]) - Foundation.exp(Double(x[i]) - m) / z) < 1e-6) }
        }
        let g = (0..<37).map { _ in Float(rng.nextUnit()) * 30 - 15 }, u = (0..<37).map { _ in Float(rng.nextUnit()) - 0.5 }
        var out = [Float](repeating: 0, count: 37)
        Kernels.swiglu(&out, g, u, count: 37)
        for i in 0..<37 {
            let want = Double(g[i]) / (1 + Foundation.exp(-Double(g[i]))) * Double(u[i])
            #expect(abs(Double(out[i]) - want) <= 1e-6 * max(1, abs(want)))
        }
    }

    @Test func argmaxAndLogprobsOverAVocabulary() {
        var rng = SplitMix64(seed: 3)
        var logits = (0..<49_157).map { _ in Float(rng.nextUnit()) * 20 - 10 }
        logits[31_000] = 12
        logits[40_000] = 12  // a tie: the lower id wins, as torch.argmax
        logits.withUnsafeBufferPointer { l in
            #expect(Sampler.argmax(l) == 31_000)
            let (lp, _) = Sampler.logprobs(l, id: 40_000, top: 0)
            let z = logits.map { Foundation.exp(Double($0) - 12) }.reduce(0, +)
            #expect(abs(Double(lp) - (0 - Foundation.log(z))) < 1e-5)
        }
    }
}
