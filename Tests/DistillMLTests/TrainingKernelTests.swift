import DistillData
import Foundation
import Testing
@testable import DistillML

/// Finite-difference checks of every backward kernel: for L = Σ w ⊙ forward(x) with a fixed random w, the analytic
/// dL/dx from the backward kernel agrees with (L(x + h) − L(x − h)) / 2h at sampled coordinates, within
/// 1e-2 · max|dL/dx| + 1e-3 (float32 forward passes, h = 1e-2).
@Suite struct TrainingKernelTests {
    /// A Float buffer of random values in ±scale (plus `offset`).
    final class Buf {
        let p: UnsafeMutablePointer<Float>
        let n: Int
        init(_ n: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) {
            self.n = n
            p = .allocate(capacity: n)
            var rng = SplitMix64(seed: seed)
            for i in 0..<n { p[i] = offset + scale * (Float(rng.nextUnit()) * 2 - 1) }
        }
        convenience init(zeros n: Int) {
            self.init(n, seed: 0, scale: 0)
        }
        deinit { p.deallocate() }
        var array: [Float] { Array(UnsafeBufferPointer(start: p, count: n)) }
        func dot(_ other: Buf) -> Double { (0..<n).reduce(0.0) { $0 + Double(p[$1]) * Double(other.p[$1]) } }
    }

    /// Central differences of `loss` at `probes` coordinates of x against the analytic gradient.
    static func check(_ name: String, _ x: Buf, _ grad: [Float], probes: Int = 16, loss: () -> Double) {
        var rng = SplitMix64(seed: 99)
        let h: Float = 1e-2
        let scale = grad.map(abs).max() ?? 0
        var worst: Float = 0
        for _ in 0..<probes {
            let i = rng.index(below: x.n)
            let saved = x.p[i]
            x.p[i] = saved + h
            let up = loss()
            x.p[i] = saved - h
            let down = loss()
            x.p[i] = saved
            let fd = Float((up - down) / Double(2 * h))
            worst = max(worst, abs(fd - grad[i]))
        }
        #expect(worst <= 1e-2 * scale + 1e-3, "\(name): worst |fd − analytic| \(worst), max |analytic| \(scale)")
    }

    @Test func linear() {
        let N = 5, C = 16, OC = 12
        let x = Buf(N * C, seed: 1), w = Buf(OC * C, seed: 2), b = Buf(OC, seed: 3), dout = Buf(N * OC, seed: 4)
        let out = Buf(zeros: N * OC), dx = Buf(zeros: N * C), dw = Buf(zeros: OC * C), db = Buf(zeros: OC)
        func loss() -> Double { Kernels.matmul(out.p, x.p, w.p, b.p, N: N, C: C, OC: OC); return out.dot(dout) }
        Kernels.matmulBackward(dinp: dx.p, dweight: dw.p, dbias: db.p, dout: dout.p, inp: x.p, weight: w.p, N: N, C: C, OC: OC)
        Self.check("linear dinp", x, dx.array, loss: loss)
        Self.check("linear dweight", w, dw.array, loss: loss)
        Self.check("linear dbias", b, db.array, loss: loss)
    }

    @Test func rmsnorm() {
        let N = 4, C = 24
        let x = Buf(N * C, seed: 5), w = Buf(C, seed: 6, scale: 0.3, offset: 1), dout = Buf(N * C, seed: 7)
        let out = Buf(zeros: N * C), rstd = Buf(zeros: N), dx = Buf(zeros: N * C), dw = Buf(zeros: C)
        func loss() -> Double { Kernels.rmsnorm(out.p, rstd.p, x.p, w.p, N: N, C: C, eps: 1e-5); return out.dot(dout) }
        _ = loss()
        Kernels.rmsnormBackward(dinp: dx.p, dweight: dw.p, dout: dout.p, inp: x.p, weight: w.p, rstd: rstd.p, N: N, C: C)
        Self.check("rmsnorm dinp", x, dx.array, loss: loss)
        Self.check("rmsnorm dweight", w, dw.array, loss: loss)
    }

    @Test func ropeAndSwiGLU() {
        let config = LlamaConfig(architecture: "llama", layers: 1, dim: 16, hiddenDim: 8, heads: 2, kvHeads: 2, vocabSize: 4)
        let (cosT, sinT) = config.ropeTables(positions: 8)
        let N = 3, x = Buf(N * 16, seed: 8), dout = Buf(N * 16, seed: 9), out = Buf(zeros: N * 16)
        let positions: [Int32] = [0, 5, 7]
        func ropeLoss() -> Double {
            out.p.update(from: x.p, count: N * 16)
            Kernels.rope(out.p, positions: positions, N: N, heads: 2, headDim: 8, rowStride: 16, cos: cosT, sin: sinT)
            return out.dot(dout)
        }
        let dx = Buf(zeros: N * 16)
        dx.p.update(from: dout.p, count: N * 16)
        Kernels.ropeBackward(dx.p, positions: positions, N: N, heads: 2, headDim: 8, rowStride: 16, cos: cosT, sin: sinT)
        Self.check("rope", x, dx.array, loss: ropeLoss)

        let n = 37, g = Buf(n, seed: 10, scale: 3), u = Buf(n, seed: 11), d = Buf(n, seed: 12), o = Buf(zeros: n)
        func swigluLoss() -> Double { Kernels.swiglu(o.p, g.p, u.p, count: n); return o.dot(d) }
        let dg = Buf(zeros: n), du = Buf(zeros: n)
        Kernels.swigluBackward(dgate: dg.p, dup: du.p, dout: d.p, gate: g.p, up: u.p, count: n)
        Self.check("swiglu dgate", g, dg.array, loss: swigluLoss)
        Self.check("swiglu dup", u, du.array, loss: swigluLoss)
    }

    @Test func causalAttentionWithSegments() {
        let B = 2, T = 7, NH = 4, KVH = 2, HD = 8, qDim = NH * HD, kvDim = KVH * HD
        let q = Buf(B * T * qDim, seed: 13), k = Buf(B * T * kvDim, seed: 14), v = Buf(B * T * kvDim, seed: 15)
        let dout = Buf(B * T * qDim, seed: 16), out = Buf(zeros: B * T * qDim), att = Buf(zeros: B * NH * T * T)
        let segments: [Int32] = [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
        func loss() -> Double {
            Kernels.causalAttentionForward(out.p, att: att.p, q: q.p, k: k.p, v: v.p, segments: segments,
                                           B: B, T: T, NH: NH, KVH: KVH, HD: HD)
            return out.dot(dout)
        }
        _ = loss()
        // No attention across segments or to the future.
        for bh in 0..<(B * NH) {
            let seg = Array(segments[((bh / NH) * T)..<((bh / NH + 1) * T)])
            for t in 0..<T {
                for j in 0..<T where j > t || seg[j] != seg[t] { #expect(att.p[bh * T * T + t * T + j] == 0) }
            }
        }
        let dq = Buf(zeros: q.n), dk = Buf(zeros: k.n), dv = Buf(zeros: v.n), scratch = Buf(zeros: B * KVH * T * T)
        Kernels.causalAttentionBackward(dq: dq.p, dk: dk.p, dv: dv.p, scratch: scratch.p, dout: dout.p, att: att.p,
                                        q: q.p, k: k.p, v: v.p, B: B, T: T, NH: NH, KVH: KVH, HD: HD)
        Self.check("attention dq", q, dq.array, probes: 24, loss: loss)
        Self.check("attention dk", k, dk.array, probes: 24, loss: loss)
        Self.check("attention dv", v, dv.array, probes: 24, loss: loss)
    }

    @Test func crossEntropyAndEmbedding() {
        let M = 3, V = 21
        let z = Buf(M * V, seed: 17, scale: 3), work = Buf(zeros: M * V), losses = Buf(zeros: M)
        let targets: [Int32] = [4, -1, 20]
        func loss() -> Double {
            work.p.update(from: z.p, count: M * V)
            Kernels.crossEntropy(work.p, losses: losses.p, targets: targets, M: M, V: V, dlossScale: nil)
            return (0..<M).reduce(0.0) { $0 + Double(losses.p[$1]) }
        }
        _ = loss()
        #expect(losses.p[1] == 0)
        work.p.update(from: z.p, count: M * V)
        Kernels.crossEntropy(work.p, losses: losses.p, targets: targets, M: M, V: V, dlossScale: 1)
        Self.check("cross-entropy", z, work.array, loss: loss)

        let C = 6, wte = Buf(5 * C, seed: 18), dout = Buf(4 * C, seed: 19), out = Buf(zeros: 4 * C), dw = Buf(zeros: 5 * C)
        let tokens: [Int32] = [2, 0, 2, 4]
        func embLoss() -> Double { Kernels.embeddingForward(out.p, tokens: tokens, wte: wte.p, N: 4, C: C); return out.dot(dout) }
        Kernels.embeddingBackward(dw.p, dout: dout.p, tokens: tokens, N: 4, C: C)
        Self.check("embedding", wte, dw.array, loss: embLoss)
    }

    @Test func lora() {
        let N = 6, C = 16, OC = 10, r = 3, scale: Float = 2
        let u = Buf(N * C, seed: 20), a = Buf(r * C, seed: 21), b = Buf(OC * r, seed: 22), dout = Buf(N * OC, seed: 23)
        let out = Buf(zeros: N * OC), h = Buf(zeros: N * r)
        func loss() -> Double {
            out.p.update(repeating: 0, count: N * OC)
            Kernels.loraForward(out.p, h: h.p, u: u.p, a: a.p, b: b.p, scale: scale, N: N, C: C, OC: OC, r: r)
            return out.dot(dout)
        }
        _ = loss()
        let du = Buf(zeros: N * C), da = Buf(zeros: r * C), db = Buf(zeros: OC * r), dh = Buf(zeros: N * r)
        Kernels.loraBackward(dinp: du.p, dropout: false, dinpScratch: du.p, da: da.p, db: db.p, dh: dh.p, dout: dout.p,
                             h: h.p, u: u.p, a: a.p, b: b.p, scale: scale, N: N, C: C, OC: OC, r: r)
        Self.check("lora dinp", u, du.array, loss: loss)
        Self.check("lora dA", a, da.array, loss: loss)
        Self.check("lora dB", b, db.array, loss: loss)
    }

    /// OpenBLAS's kernel advice: nothing when DISTILL_KEEP_BLAS=1 or the CPU has no vector extensions; SkylakeX for an
    /// AVX-512 CPU whose detection fell back to Prescott (the system OpenBLAS on a CPU newer than itself) or that
    /// runs AVX2 kernels (OPENBLAS_CORETYPE=Haswell in the environment); Haswell for an
    /// AVX2 CPU given SSE kernels.
    @Test func openBLASCoreAdvice() {
        let avx512: Set<String> = ["avx512f", "avx512bw", "avx2", "fma"], avx2: Set<String> = ["avx2", "fma"]
        #expect(OpenBLASCore.recommendedCoreType(flags: [], environment: [:]) == nil)
        #expect(OpenBLASCore.recommendedCoreType(flags: avx512, environment: ["DISTILL_KEEP_BLAS": "1"], core: "Prescott") == nil)
        #expect(OpenBLASCore.recommendedCoreType(flags: avx512, environment: ["OPENBLAS_CORETYPE": "Haswell"], core: "Haswell")
                == "SkylakeX")
        for core in ["Prescott", "Sandybridge", "Haswell", "Zen"] {
            #expect(OpenBLASCore.recommendedCoreType(flags: avx512, environment: [:], core: core) == "SkylakeX")
        }
        for core in ["SkylakeX", "Cooperlake", "SapphireRapids"] {
            #expect(OpenBLASCore.recommendedCoreType(flags: avx512, environment: [:], core: core) == nil)
        }
        #expect(OpenBLASCore.recommendedCoreType(flags: avx2, environment: [:], core: "Prescott") == "Haswell")
        #expect(OpenBLASCore.recommendedCoreType(flags: avx2, environment: [:], core: "Haswell") == nil)
        #expect(OpenBLASCore.recommendedCoreType(flags: avx2, environment: [:], core: "Zen") == nil)
    }
}
