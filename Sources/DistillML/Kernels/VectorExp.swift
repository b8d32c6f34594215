extension Kernels {
    /// e^x for 8 lanes at once (Cephes `expf`: range reduction by ln 2 in two parts, degree-6 polynomial, 2^n by
    /// exponent bits), within a few ulp of `expf` for x in [−87.3, 88]; inputs outside are clamped (so e^−∞ is 1e−38, not
    /// 0: harmless in a softmax, whose largest term is 1; and 2^n stays a normal float).
    /// Why: a scalar `expf` call costs ~20 cycles, and softmax, SiLU and log-sum-exp over a 49152-token vocabulary
    /// call it per element.
    /// Written with compares, blends and integer bit operations only: Swift's `clamped`, `rounded` and Float→Int
    /// lane conversions on SIMD8 compile to per-lane scalar code here (measured 12× slower).
    @inline(__always) static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        var x = x.replacing(with: SIMD8(repeating: -87.33654), where: x .< -87.33654)
        x = x.replacing(with: SIMD8(repeating: 88), where: x .> 88)
        // x·log2(e) + 1.5·2²³ rounds to the nearest integer n, which then sits in the low mantissa bits.
        let shifted = SIMD8<Float>(repeating: 12_582_912).addingProduct(x, SIMD8(repeating: 1.442695041))
        let n = shifted - 12_582_912
        x.addProduct(n, SIMD8(repeating: -0.693359375))
        x.addProduct(n, SIMD8(repeating: 2.12194440e-4))
        // addingProduct compiles to FMA (`a * b + c` would not be fused).
        var p = SIMD8<Float>(repeating: 1.3981999507e-3).addingProduct(SIMD8(repeating: 1.9875691500e-4), x)
        p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, x)
        p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, x)
        p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, x)
        p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, x)
        let y = (x + 1).addingProduct(p, x * x)
        let bits = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// Lane-wise maximum as compare + blend (`pointwiseMax` does not vectorise, see `exp`).
    @inline(__always) static func lanewiseMax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a.replacing(with: b, where: b .> a)
    }
}
