import DistillData
import Foundation
import Testing
@testable import DistillML

/// The int8-activation kernels against an independent reference: the weights dequantised by `GGMLDequantize`
/// (checked against gguf-py) times the inputs rounded as ggml's quantize_row_q8_1 rounds them, summed in Double.
/// The kernel differs from that only by float rounding; a wrong nibble order, sign or scale would be off by the
/// size of the weights.
@Suite(.enabled(if: QuantizedLinears.int8Available, "int8 kernels are built for x86-64 AVX2 only"))
struct Int8KernelTests {
    /// Random ggml blocks of `type` (Q4_0, Q4_1 or Q8_0) with finite f16 scales (and mins).
    static func blocks(_ type: GGMLType, rows: Int, cols: Int, rng: inout SplitMix64) -> [UInt8] {
        let size = type == .q8_0 ? 34 : type == .q4_1 ? 20 : 18
        var bytes = [UInt8](repeating: 0, count: rows * cols / 32 * size)
        for b in 0..<(rows * cols / 32) {
            func put(_ value: Float, at offset: Int) {
                let bits = Float16(value).bitPattern
                bytes[b * size + offset] = UInt8(bits & 0xFF)
                bytes[b * size + offset + 1] = UInt8(bits >> 8)
            }
            put(Float(rng.nextUnit()) * 0.02 + 0.001, at: 0)
            if type == .q4_1 { put(Float(rng.nextUnit()) * 0.2 - 0.1, at: 2) }
            let first = type == .q4_1 ? 4 : 2
            for i in first..<size { bytes[b * size + i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        return bytes
    }

    /// ggml's activation rounding for one row: x̂ = round(x · 127/amax) · amax/127 per 32-block, ties to even.
    static func roundedInputs(_ x: ArraySlice<Float>) -> [Double] {
        var out: [Double] = []
        for start in stride(from: x.startIndex, to: x.endIndex, by: 32) {
            let block = x[start..<(start + 32)]
            let amax = block.map(abs).max() ?? 0
            let id: Float = amax != 0 ? 127 / amax : 0
            out += block.map { Double(($0 * id).rounded(.toNearestOrEven)) * Double(amax / 127) }
        }
        return out
    }

    @Test(arguments: [GGMLType.q4_1, .q4_0, .q8_0])
    func matchesDequantisedReference(type: GGMLType) throws {
        var rng = SplitMix64(seed: 7)
        let rows = 37, cols = 128  // 2 groups of 16 rows and a partial third
        let raw = Self.blocks(type, rows: rows, cols: cols, rng: &rng)
        var weights = [Float](repeating: 0, count: rows * cols)
        raw.withUnsafeBytes { GGMLDequantize.row(type, $0.baseAddress!, &weights, count: rows * cols) }
        let matrix = raw.withUnsafeBytes {
            QuantizedMatrix(rows: rows, cols: cols, type: type, blocks: $0.baseAddress!, activations: .int8)
        }
        // Inputs with a wide range and some exact zeros (an all-zero block has scale 0).
        let N = 5
        var inputs = (0..<(N * cols)).map { _ in Float(rng.nextUnit() * 4 - 2) }
        for i in 0..<32 { inputs[2 * cols + i] = 0 }
        var out = [Float](repeating: .nan, count: N * rows)
        matrix.matmul(&out, inputs, N: N)
        var worst = 0.0
        for n in 0..<N {
            let x = Self.roundedInputs(inputs[(n * cols)..<((n + 1) * cols)])
            for r in 0..<rows {
                let expected = (0..<cols).reduce(0.0) { $0 + Double(weights[r * cols + $1]) * x[$1] }
                let scale = (0..<cols).reduce(0.0) { $0 + abs(Double(weights[r * cols + $1]) * x[$1]) }
                worst = max(worst, abs(Double(out[n * rows + r]) - expected) / max(scale, 1e-30))
            }
        }
        print("int8 \(type): worst |kernel − reference| / Σ|w·x̂| = \(worst)")
        #expect(worst < 1e-5)
        // Every (row, input) is summed in one order whichever tile computes it: alone it gives the same bits.
        for n in 0..<N {
            var single = [Float](repeating: .nan, count: rows)
            Array(inputs[(n * cols)..<((n + 1) * cols)]).withUnsafeBufferPointer { matrix.matmul(&single, $0.baseAddress!, N: 1) }
            #expect(single == Array(out[(n * rows)..<((n + 1) * rows)]), "input \(n) alone vs in a batch of \(N)")
        }
    }

    /// The AVX-512 VNNI and AVX2 kernels read one layout and do the same float operations per lane: same bits,
    /// for every type, for a partial last group of rows and for inputs in several chunks.
    @Test(.enabled(if: QuantizedMatrix.Int8Kernel.best == .avx512vnni, "this CPU has no AVX-512 VNNI (or DISTILL_KERNELS=avx2)"),
          arguments: [GGMLType.q4_1, .q4_0, .q8_0])
    func vnniAndAVX2GiveTheSameBits(type: GGMLType) throws {
        var rng = SplitMix64(seed: 13)
        let rows = 50, cols = 192, N = 37  // 3 groups of 16 and 2 rows; inputs in chunks of 32 + 5
        let raw = Self.blocks(type, rows: rows, cols: cols, rng: &rng)
        let matrix = raw.withUnsafeBytes {
            QuantizedMatrix(rows: rows, cols: cols, type: type, blocks: $0.baseAddress!, activations: .int8)
        }
        let inputs = (0..<(N * cols)).map { _ in Float(rng.nextUnit() * 6 - 3) }
        var vnni = [Float](repeating: .nan, count: N * rows), avx2 = vnni
        matrix.matmul(&vnni, inputs, N: N)
        matrix.int8Kernel = .avx2
        matrix.matmul(&avx2, inputs, N: N)
        #expect(vnni.map(\.bitPattern) == avx2.map(\.bitPattern))
        #expect(!vnni.contains { $0.isNaN })
    }

    /// Products that share an input (q/k/v, gate/up) go through one call, which quantises the input once and spreads
    /// all their rows over one loop: each output is the same as from its own call, for mixed types and widths.
    @Test func sharedInputProductsEqualSeparateOnes() throws {
        var rng = SplitMix64(seed: 17)
        let cols = 128, N = 3, shapes: [(GGMLType, Int)] = [(.q4_1, 40), (.q8_0, 16), (.q4_0, 9)]
        let matrices = shapes.map { type, rows in
            Self.blocks(type, rows: rows, cols: cols, rng: &rng).withUnsafeBytes {
                QuantizedMatrix(rows: rows, cols: cols, type: type, blocks: $0.baseAddress!, activations: .int8)
            }
        }
        let inputs = (0..<(N * cols)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        var shared = shapes.map { [Float](repeating: .nan, count: N * $0.1) }
        let pointers = shared.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: N * shapes[i].1) }
        defer { pointers.forEach { $0.deallocate() } }
        QuantizedMatrix.matmulInt8(Array(zip(matrices, pointers)), inputs, N: N)
        for i in shared.indices { shared[i] = Array(UnsafeBufferPointer(start: pointers[i], count: N * shapes[i].1)) }
        for (i, matrix) in matrices.enumerated() {
            var alone = [Float](repeating: .nan, count: N * shapes[i].1)
            matrix.matmul(&alone, inputs, N: N)
            #expect(alone.map(\.bitPattern) == shared[i].map(\.bitPattern), "matrix \(i) (\(shapes[i].0))")
        }
    }

    /// Re-encoding fp32 weights as Q8_0 for the int8 path (safetensors models) stays within activation rounding of
    /// the fp32 product.
    @Test func q8FromFloatIsCloseToFloatProduct() {
        var rng = SplitMix64(seed: 11)
        let rows = 20, cols = 96
        let w = (0..<(rows * cols)).map { _ in Float(rng.nextUnit() - 0.5) }
        let x = (0..<cols).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let matrix = QuantizedMatrix(rows: rows, cols: cols, q8From: w, activations: .int8)
        var out = [Float](repeating: 0, count: rows)
        matrix.matmul(&out, x, N: 1)
        let exact = (0..<rows).map { r in (0..<cols).reduce(Float(0)) { $0 + w[r * cols + $1] * x[$1] } }
        let scale = exact.map(abs).max() ?? 1
        let worst = zip(out, exact).map { abs($0 - $1) }.max() ?? 0
        print("int8 Q8_0-from-fp32: worst error / max |logit| = \(worst / scale)")
        #expect(worst / scale < 0.02)
    }
}
