import COpenBLAS
import Foundation

/// Rows of a quantised matrix decoded back to fp32, and the two products that run through sgemm on such rows: the
/// forward for many rows at once (prefill when no fp32 copy is kept) and the input gradient dX = dY·W (QLoRA).
///
/// The decoded values are exactly ggml's dequantisation (w = q·d + m, or q·d for 8-bit), the values the fp32 loader
/// puts in `LlamaParameters`; only BLAS's blocking of the products differs from the fp32 path.
extension QuantizedMatrix {
    /// Rows per decoded slice: the scratch a worker holds is `sliceRows` × `cols` floats (≤ 1.5 MB at cols 1536).
    static let sliceRows = 256

    /// Writes rows lo..<hi, columns c0..<c1 (whole 32-blocks), as fp32 into dst ((hi − lo), c1 − c0), row-major.
    func dequantize(rows lo: Int, _ hi: Int, columns: Range<Int>? = nil, into dst: UnsafeMutablePointer<Float>) {
        let c0 = columns?.lowerBound ?? 0, c1 = columns?.upperBound ?? cols
        let nb = blocksPerRow, g = Self.groupRows
        for r in lo..<hi {
            let y = dst + (r - lo) * (c1 - c0) - c0
            for b in (c0 / 32)..<(c1 / 32) {
                let out = y + b * 32
                // Each layout's loop reads its own byte order (see `packFloatCodes` and `storeInt8`).
                switch (activations, fourBit) {
                case (.float, true):
                    let index = r * nb + b, d = scales[index], m = mins[index]
                    let pair = codes + (index / 2) * 32, first = (index % 2) * 32
                    for e in 0..<32 {
                        let k = (first + e) / 8, j = (first + e) % 8, byte = pair[4 * j + k / 2]
                        out[e] = Float(k % 2 == 0 ? byte & 0xF : byte >> 4) * d + m
                    }
                case (.float, false):
                    let index = r * nb + b, d = scales[index], block = codes + index * 32
                    for e in 0..<32 { out[e] = Float(Int(block[4 * (e % 8) + e / 8]) - 128) * d }
                case (.int8, true):
                    let lane = r % g, slot = (r / g) * nb + b, d = scales[slot * g + lane], m = mins[slot * g + lane]
                    let base = codes + slot * 256 + 4 * lane
                    for e in 0..<16 {
                        let byte = base[64 * (e / 4) + e % 4]
                        out[e] = Float(byte & 0xF) * d + m
                        out[e + 16] = Float(byte >> 4) * d + m
                    }
                case (.int8, false):
                    let lane = r % g, slot = (r / g) * nb + b, d = scales[slot * g + lane]
                    let base = codes + slot * 512 + 4 * lane
                    for e in 0..<32 { out[e] = Float(Int8(bitPattern: base[64 * (e / 4) + e % 4])) * d }
                }
            }
        }
    }

    /// out(N, rows) = inp(N, cols) · Wᵀ by sgemm over decoded slices of W, the slices split as `Kernels.matmul` splits
    /// its output channels (so the result is that of `Kernels.matmul` on the dequantised matrix).
    func matmulDequantized(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, N: Int) {
        let parts = Swift.min(Parallel.threads * Parallel.chunksPerWorker, Swift.max(1, rows / 64))
        Parallel.forEach(parts) { part in
            let lo = rows * part / parts, hi = rows * (part + 1) / parts
            withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.min(Self.sliceRows, hi - lo) * cols) { scratch in
                let w = scratch.baseAddress!
                var r0 = lo
                while r0 < hi {
                    let r1 = Swift.min(hi, r0 + Self.sliceRows)
                    dequantize(rows: r0, r1, into: w)
                    if N == 1 {
                        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r1 - r0), Int32(cols), 1, w, Int32(cols), inp, 1, 0, out + r0, 1)
                    } else {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(r1 - r0), Int32(cols),
                                    1, inp, Int32(cols), w, Int32(cols), 0, out + r0, Int32(rows))
                    }
                    r0 = r1
                }
            }
        }
    }

    /// dinp(N, cols) += dout(N, rows) · W (the input gradient of `matmul`), W decoded a slice of rows at a time:
    /// dinp += dout[:, r0..<r1] · W[r0..<r1, :]. Columns of dinp are split over the workers so none share a write.
    func accumulateInputGradient(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, N: Int) {
        // Each worker owns a band of input columns (whole 32-blocks) and walks every row slice, decoding only its band.
        let bands = Swift.max(1, Swift.min(Parallel.threads, cols / 64))
        Parallel.forEach(bands) { band in
            let c0 = (cols / 32) * band / bands * 32, c1 = (cols / 32) * (band + 1) / bands * 32
            let width = c1 - c0
            guard width > 0 else { return }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.sliceRows * width) { scratch in
                let w = scratch.baseAddress!
                var r0 = 0
                while r0 < rows {
                    let r1 = Swift.min(rows, r0 + Self.sliceRows)
                    dequantize(rows: r0, r1, columns: c0..<c1, into: w)
                    // dinp[:, c0..<c1] (N, width) += dout[:, r0..<r1] (N, r1−r0) · W[r0..<r1, c0..<c1]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(N), Int32(width), Int32(r1 - r0),
                                1, dout + r0, Int32(rows), w, Int32(width), 1, dinp + c0, Int32(cols))
                    r0 = r1
                }
            }
        }
    }
}
