import Foundation

/// One weight matrix (rows × cols, row-major) in 32-element blocks, repacked for the SIMD kernel: nibbles or int8
/// codes in one array, each block's scale (and min) as Float in another, so the hot loop converts no f16.
///
/// 4-bit: w = q·d + m (Q4_1; Q4_0 is m = −8·d). 8-bit: w = q·d (Q8_0). Values are exactly ggml's dequantisation.
final class QuantizedMatrix {
    let rows: Int
    let cols: Int
    let fourBit: Bool
    let codes: UnsafeMutablePointer<UInt8>
    let scales: UnsafeMutablePointer<Float>
    let mins: UnsafeMutablePointer<Float>
    var blocksPerRow: Int { cols / 32 }
    var codeBytesPerBlock: Int { fourBit ? 16 : 32 }
    var byteCount: Int { rows * blocksPerRow * (codeBytesPerBlock + (fourBit ? 8 : 4)) }

    private init(rows: Int, cols: Int, fourBit: Bool) {
        precondition(cols % 32 == 0, "quantised rows must be multiples of 32")
        self.rows = rows
        self.cols = cols
        self.fourBit = fourBit
        let blocks = rows * cols / 32
        codes = .allocate(capacity: blocks * (fourBit ? 16 : 32))
        scales = .allocate(capacity: blocks)
        mins = .allocate(capacity: fourBit ? blocks : 1)
    }

    deinit {
        codes.deallocate()
        scales.deallocate()
        mins.deallocate()
    }

    /// Repacks ggml Q4_0 / Q4_1 / Q8_0 blocks.
    convenience init(rows: Int, cols: Int, type: GGMLType, blocks src: UnsafeRawPointer) {
        self.init(rows: rows, cols: cols, fourBit: type != .q8_0)
        let count = rows * cols / 32
        for b in 0..<count {
            switch type {
            case .q8_0:
                let block = src + b * 34
                scales[b] = GGMLDequantize.half(block, 0)
                (codes + b * 32).update(from: (block + 2).assumingMemoryBound(to: UInt8.self), count: 32)
            case .q4_1:
                let block = src + b * 20
                scales[b] = GGMLDequantize.half(block, 0)
                mins[b] = GGMLDequantize.half(block, 2)
                (codes + b * 16).update(from: (block + 4).assumingMemoryBound(to: UInt8.self), count: 16)
            default:  // Q4_0
                let block = src + b * 18
                scales[b] = GGMLDequantize.half(block, 0)
                mins[b] = -8 * scales[b]
                (codes + b * 16).update(from: (block + 2).assumingMemoryBound(to: UInt8.self), count: 16)
            }
        }
    }

    /// Encodes fp32 rows as Q8_0 (`quantize_row_q8_0_ref`, scale kept as Float rather than rounded to f16).
    convenience init(rows: Int, cols: Int, q8From src: UnsafePointer<Float>) {
        self.init(rows: rows, cols: cols, fourBit: false)
        for b in 0..<(rows * cols / 32) {
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(src[b * 32 + j])) }
            let d = amax / 127, id: Float = d != 0 ? 1 / d : 0
            scales[b] = d
            for j in 0..<32 { codes[b * 32 + j] = UInt8(bitPattern: Int8((src[b * 32 + j] * id).rounded())) }
        }
    }

    /// Reorders rows from ggml's adjacent-pair RoPE layout to HF's (see `LlamaParameters.unpermuteRows`).
    func unpermuteRows(heads: Int, headDim: Int) {
        let half = headDim / 2
        let rowCodes = blocksPerRow * codeBytesPerBlock, rowBlocks = blocksPerRow
        let oldCodes = Array(UnsafeBufferPointer(start: codes, count: rows * rowCodes))
        let oldScales = Array(UnsafeBufferPointer(start: scales, count: rows * rowBlocks))
        let oldMins = fourBit ? Array(UnsafeBufferPointer(start: mins, count: rows * rowBlocks)) : []
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let dst = h * headDim + j * half + i, src = h * headDim + 2 * i + j
                    for k in 0..<rowCodes { codes[dst * rowCodes + k] = oldCodes[src * rowCodes + k] }
                    for k in 0..<rowBlocks {
                        scales[dst * rowBlocks + k] = oldScales[src * rowBlocks + k]
                        if fourBit { mins[dst * rowBlocks + k] = oldMins[src * rowBlocks + k] }
                    }
                }
            }
        }
    }

    /// out(N, rows) = inp(N, cols) · Wᵀ, rows split over the workers; each block is decoded once and used for all N inputs.
    func matmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, N: Int) {
        let rowsPerJob = 16
        let jobs = (rows + rowsPerJob - 1) / rowsPerJob
        Parallel.forEach(jobs) { job in
            let lo = job * rowsPerJob, hi = min(rows, lo + rowsPerJob)
            if fourBit {
                for r in lo..<hi { dot4(row: r, inp, out, N: N) }
            } else {
                for r in lo..<hi { dot8(row: r, inp, out, N: N) }
            }
        }
    }

    @inline(__always) private func loadX(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    private func dot4(row r: Int, _ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, N: Int) {
        let nb = blocksPerRow
        for n in 0..<N {
            let x = inp + n * cols
            var acc = SIMD16<Float>(), accMin: Float = 0
            for b in 0..<nb {
                let q = UnsafeRawPointer(codes + (r * nb + b) * 16).loadUnaligned(as: SIMD16<UInt8>.self)
                let lo = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q & 0x0F))
                let hi = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q &>> 4))
                let xb = x + b * 32
                let x0 = loadX(xb), x1 = loadX(xb + 16)
                acc += (lo * x0 + hi * x1) * scales[r * nb + b]
                accMin += mins[r * nb + b] * (x0 + x1).sum()
            }
            out[n * rows + r] = acc.sum() + accMin
        }
    }

    private func dot8(row r: Int, _ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, N: Int) {
        let nb = blocksPerRow
        for n in 0..<N {
            let x = inp + n * cols
            var acc = SIMD16<Float>()
            for b in 0..<nb {
                let base = UnsafeRawPointer(codes + (r * nb + b) * 32)
                let q0 = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: base.loadUnaligned(as: SIMD16<Int8>.self)))
                let q1 = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: base.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self)))
                let xb = x + b * 32
                acc += (q0 * loadX(xb) + q1 * loadX(xb + 16)) * scales[r * nb + b]
            }
            out[n * rows + r] = acc.sum()
        }
    }
}
