import Foundation

extension Kernels {
    /// SwiGLU forward, used by inference and training: gate, up (N,H) -> out (N,H) = silu(gate) ⊙ up,
    /// silu(g) = g·σ(g). `count` = N·H; `out` may be `gate`.
    static func swiglu(_ out: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        forEachSpan(count) { lo, hi in
            var i = lo
            while i + 8 <= hi {
                let g = load8(gate + i), u = load8(up + i)
                UnsafeMutableRawPointer(out + i).storeBytes(of: g / (1 + exp(-g)) * u, as: SIMD8<Float>.self)
                i += 8
            }
            while i < hi {
                let g = gate[i]
                out[i] = g / (1 + expf(-g)) * up[i]
                i += 1
            }
        }
    }

    /// Backward of `swiglu`, accumulating, from dout, gate, up (N,H):
    ///   dgate (N,H) += dout ⊙ up ⊙ σ(g)·(1 + g·(1 − σ(g)))
    ///   dup (N,H)   += dout ⊙ silu(g)
    static func swigluBackward(dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                               gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        forEachSpan(count) { lo, hi in
            var i = lo
            while i + 8 <= hi {
                let g = load8(gate + i), u = load8(up + i), d = load8(dout + i)
                let sig = 1 / (1 + exp(-g))
                let dg = load8(dgate + i), du = load8(dup + i)
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
