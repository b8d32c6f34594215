import Foundation

extension Kernels {
    /// Backward of `swiglu` (forward: out(N,H) = silu(gate) ⊙ up, silu(g) = g·σ(g)):
    ///   dgate += dout ⊙ up ⊙ σ(g)·(1 + g·(1 − σ(g)))
    ///   dup   += dout ⊙ silu(g)
    static func swigluBackward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                               gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let chunks = max(1, min(count / 4096, Parallel.threads * 4))
        Parallel.forEach(chunks) { c in
            var i = count * c / chunks
            let hi = count * (c + 1) / chunks
            while i + 8 <= hi {
                let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
                let d = UnsafeRawPointer(dout + i).loadUnaligned(as: SIMD8<Float>.self)
                let sig = 1 / (1 + exp(-g))
                let dg = UnsafeRawPointer(dgate + i).loadUnaligned(as: SIMD8<Float>.self)
                let du = UnsafeRawPointer(dup + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dgate + i).storeBytes(of: dg + d * u * sig * (1 + g * (1 - sig)), as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dup + i).storeBytes(of: du + d * g * sig, as: SIMD8<Float>.self)
                i += 8
            }
            while i < hi {
                let g = gate[i], sig = 1 / (1 + expf(-g))
                dgate[i] += dout[i] * up[i] * sig * (1 + g * (1 - sig))
                dup[i] += dout[i] * g * sig
                i += 1
            }
        }
    }
}
