import Foundation

/// One weight matrix (rows × cols, row-major) in 32-element blocks, repacked for the SIMD kernels: nibbles or int8
/// codes in one array, each block's scale (and min) as Float in another, so the hot loop converts no f16.
///
/// 4-bit: w = q·d + m (Q4_1; Q4_0 is m = −8·d). 8-bit: w = q·d (Q8_0). Values are exactly ggml's dequantisation.
/// Two kernel families read it, each with its own layout (`Activations`): fp32 inputs against the decoded weights,
/// row by row (this file), or inputs quantised to int8 per 32-block and multiplied in integers, 16 rows at a time
/// (`+Int8`).
final class QuantizedMatrix {
    typealias Activations = QuantizedActivations

    let rows: Int
    let cols: Int
    let fourBit: Bool
    let activations: Activations
    let codes: UnsafeMutablePointer<UInt8>
    let scales: UnsafeMutablePointer<Float>
    let mins: UnsafeMutablePointer<Float>
    /// int8 layout, 8-bit codes: 128·Σq per block and row (what the VNNI kernel's unsigned inputs add).
    let codeSums: UnsafeMutablePointer<Int32>
    /// The int8 kernel this matrix runs (the fastest the CPU has; tests compare the two).
    var int8Kernel = Int8Kernel.best
    var blocksPerRow: Int { cols / 32 }
    var codeBytesPerBlock: Int { fourBit ? 16 : 32 }
    /// Bytes of codes, scales, mins and code sums.
    var byteCount: Int {
        let sums = activations == .int8 && !fourBit ? 4 : 0
        return Self.storedRows(rows, activations) * blocksPerRow * (codeBytesPerBlock + (fourBit ? 8 : 4) + sums)
    }

    /// Rows as stored: the int8 layout pads to whole groups of 16.
    private static func storedRows(_ rows: Int, _ activations: Activations) -> Int {
        activations == .int8 ? groups(rows) * groupRows : rows
    }

    private init(rows: Int, cols: Int, fourBit: Bool, activations: Activations) {
        precondition(cols % (fourBit ? 64 : 32) == 0, "quantised rows must be multiples of 64 (4-bit) or 32 (8-bit)")
        self.rows = rows
        self.cols = cols
        self.fourBit = fourBit
        self.activations = activations
        let blocks = Self.storedRows(rows, activations) * cols / 32
        codes = .allocate(capacity: blocks * (fourBit ? 16 : 32))
        codes.initialize(repeating: 0, count: blocks * (fourBit ? 16 : 32))
        scales = .allocate(capacity: blocks)
        scales.initialize(repeating: 0, count: blocks)
        mins = .allocate(capacity: fourBit ? blocks : 1)
        mins.initialize(repeating: 0, count: fourBit ? blocks : 1)
        let sums = activations == .int8 && !fourBit ? blocks : 1
        codeSums = .allocate(capacity: sums)
        codeSums.initialize(repeating: 0, count: sums)
    }

    deinit {
        codes.deallocate()
        scales.deallocate()
        mins.deallocate()
        codeSums.deallocate()
    }

    /// Repacks ggml Q4_0 / Q4_1 / Q8_0 blocks (4-bit needs an even number of blocks per row). Row r of the matrix is
    /// row `sourceRow(r)` of the file (llama q/k rows are stored RoPE-permuted).
    convenience init(rows: Int, cols: Int, type: GGMLType, blocks src: UnsafeRawPointer, activations: Activations = .float,
                     sourceRow: (Int) -> Int = { $0 }) {
        self.init(rows: rows, cols: cols, fourBit: type != .q8_0, activations: activations)
        let nb = cols / 32
        var values = [UInt8](repeating: 0, count: 32)
        for r in 0..<rows {
            for b in 0..<nb {
                let index = sourceRow(r) * nb + b
                switch type {
                case .q8_0:
                    let block = src + index * 34
                    for j in 0..<32 { values[j] = UInt8(Int(block.load(fromByteOffset: 2 + j, as: Int8.self)) + 128) }
                    store(row: r, block: b, values, scale: GGMLDequantize.half(block, 0), min: 0)
                default:  // Q4_1 (d, m, nibbles) or Q4_0 (d, nibbles; m = −8·d)
                    let hasMin = type == .q4_1
                    let block = src + index * (hasMin ? 20 : 18)
                    let d = GGMLDequantize.half(block, 0)
                    for j in 0..<16 {
                        let q = block.load(fromByteOffset: (hasMin ? 4 : 2) + j, as: UInt8.self)
                        values[j] = q & 0xF
                        values[j + 16] = q >> 4
                    }
                    store(row: r, block: b, values, scale: d, min: hasMin ? GGMLDequantize.half(block, 2) : -8 * d)
                }
            }
        }
    }

    /// Encodes fp32 rows as Q8_0 (`quantize_row_q8_0_ref`, scale kept as Float rather than rounded to f16).
    convenience init(rows: Int, cols: Int, q8From src: UnsafePointer<Float>, activations: Activations = .float) {
        self.init(rows: rows, cols: cols, fourBit: false, activations: activations)
        var values = [UInt8](repeating: 0, count: 32)
        let nb = cols / 32
        for r in 0..<rows {
            for b in 0..<nb {
                let x = src + (r * nb + b) * 32
                var amax: Float = 0
                for j in 0..<32 { amax = max(amax, abs(x[j])) }
                let d = amax / 127, id: Float = d != 0 ? 1 / d : 0
                // A non-finite weight (a corrupt file) becomes code 0 instead of trapping in Int(_:).
                for j in 0..<32 {
                    let q = (x[j] * id).rounded()
                    values[j] = UInt8(Int(q.isFinite ? Swift.max(-128, Swift.min(127, q)) : 0) + 128)
                }
                store(row: r, block: b, values, scale: d, min: 0)
            }
        }
    }

    /// Stores block `b` of row `r`: 32 codes (0...15, or 0...255 = q + 128), its scale and (4-bit) its min.
    private func store(row r: Int, block b: Int, _ values: [UInt8], scale: Float, min: Float) {
        if activations == .int8 {
            storeInt8(row: r, block: b, values, scale: scale, min: min)
            return
        }
        let index = r * blocksPerRow + b
        scales[index] = scale
        if fourBit { mins[index] = min }
        packFloatCodes(block: index, values)
    }

    /// The fp32-activation layout, row-major blocks. The kernel reads 32 bytes as 8 UInt32 lanes and takes field k of
    /// every lane with one shift and mask: 8-bit, byte k of lane j holds element 8k + j; 4-bit, a pair of blocks shares
    /// 32 bytes and nibble k of lane j holds element 8k + j of the pair (k < 4: the even block, k ≥ 4: the odd one).
    /// No int→float conversion instruction is needed: `bits(0x4B000000 | code) − 2²³` is the code as a Float.
    private func packFloatCodes(block b: Int, _ values: [UInt8]) {
        if fourBit {
            let pairBase = codes + (b / 2) * 32, half = b % 2
            for e in 0..<32 {
                let pairElement = half * 32 + e, k = pairElement / 8, j = pairElement % 8
                let byte = pairBase + 4 * j + k / 2
                byte.pointee = k % 2 == 0 ? (byte.pointee & 0xF0) | values[e] : (byte.pointee & 0x0F) | (values[e] << 4)
            }
        } else {
            let base = codes + b * 32
            for e in 0..<32 { base[4 * (e % 8) + e / 8] = values[e] }
        }
    }

    /// out(N, rows) = inp(N, cols) · Wᵀ, rows split over the workers; each block is decoded once and used for all N inputs.
    func matmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, N: Int) {
        if activations == .int8 {
            matmulInt8(out, inp, N: N)
            return
        }
        let rowsPerJob = 16
        let jobs = (rows + rowsPerJob - 1) / rowsPerJob
        let nb = blocksPerRow
        // 4-bit: w = q·d + m, so each block's min multiplies the sum of its 32 inputs; those sums are shared by all rows.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: fourBit ? N * nb : 1) { blockSums in
            let sums = blockSums.baseAddress!
            if fourBit {
                for n in 0..<N {
                    for b in 0..<nb {
                        let x = inp + n * cols + b * 32
                        sums[n * nb + b] = ((loadX(x) + loadX(x + 8)) + (loadX(x + 16) + loadX(x + 24))).sum()
                    }
                }
            }
            Parallel.forEach(jobs) { job in
                let lo = job * rowsPerJob, hi = min(rows, lo + rowsPerJob)
                for r in lo..<hi {
                    if fourBit {
                        if N == 1 { out[r] = dot4(row: r, inp, sums) } else { dot4(row: r, inp, sums, out, N: N) }
                    } else {
                        if N == 1 { out[r] = dot8(row: r, inp) } else { dot8(row: r, inp, out, N: N) }
                    }
                }
            }
        }
    }

    @inline(__always) private func loadX(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Field k (width 4 or 8 bits) of each lane as Float, via the exponent trick (exact for codes < 2²³).
    @inline(__always) private static func field(_ v: SIMD8<UInt32>, shift: UInt32, mask: UInt32, bias: Float) -> SIMD8<Float> {
        let bits = ((v &>> shift) & mask) | 0x4B00_0000
        return unsafeBitCast(bits, to: SIMD8<Float>.self) - bias
    }

    /// The 64 weights of block pair `pr` of row `r`, decoded (codes only; scale and min applied by the caller).
    @inline(__always) private func decodePair(_ r: Int, _ pr: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                                                                       SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let v = UnsafeRawPointer(codes + (r * (blocksPerRow / 2) + pr) * 32).loadUnaligned(as: SIMD8<UInt32>.self)
        let m: Float = 8_388_608
        return (Self.field(v, shift: 0, mask: 0xF, bias: m), Self.field(v, shift: 4, mask: 0xF, bias: m),
                Self.field(v, shift: 8, mask: 0xF, bias: m), Self.field(v, shift: 12, mask: 0xF, bias: m),
                Self.field(v, shift: 16, mask: 0xF, bias: m), Self.field(v, shift: 20, mask: 0xF, bias: m),
                Self.field(v, shift: 24, mask: 0xF, bias: m), Self.field(v, shift: 28, mask: 0xF, bias: m))
    }

    /// One 4-bit row against one input (decode: the hot loop), accumulators in registers.
    private func dot4(row r: Int, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>) -> Float {
        let nb = blocksPerRow
        var acc = SIMD8<Float>()
        let rowScales = scales + r * nb
        let rowCodes = UnsafeRawPointer(codes + r * (nb / 2) * 32)
        let m: Float = 8_388_608
        for pr in 0..<(nb / 2) {
            let v = rowCodes.loadUnaligned(fromByteOffset: pr * 32, as: SIMD8<UInt32>.self)
            let xp = x + pr * 64
            // addingProduct compiles to FMA; `a * b + c` would not be fused.
            var a = Self.field(v, shift: 0, mask: 0xF, bias: m) * loadX(xp)
            a.addProduct(Self.field(v, shift: 4, mask: 0xF, bias: m), loadX(xp + 8))
            a.addProduct(Self.field(v, shift: 8, mask: 0xF, bias: m), loadX(xp + 16))
            a.addProduct(Self.field(v, shift: 12, mask: 0xF, bias: m), loadX(xp + 24))
            var b = Self.field(v, shift: 16, mask: 0xF, bias: m) * loadX(xp + 32)
            b.addProduct(Self.field(v, shift: 20, mask: 0xF, bias: m), loadX(xp + 40))
            b.addProduct(Self.field(v, shift: 24, mask: 0xF, bias: m), loadX(xp + 48))
            b.addProduct(Self.field(v, shift: 28, mask: 0xF, bias: m), loadX(xp + 56))
            acc.addProduct(a, SIMD8(repeating: rowScales[2 * pr]))
            acc.addProduct(b, SIMD8(repeating: rowScales[2 * pr + 1]))
        }
        return acc.sum() + Kernels.dot(mins + r * nb, sums, nb)
    }

    /// 4-bit rows for N inputs: each block pair is decoded once and applied to every input row.
    private func dot4(row r: Int, _ inp: UnsafePointer<Float>, _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, N: Int) {
        let nb = blocksPerRow
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: N) { acc in
            acc.initialize(repeating: SIMD8<Float>())
            for pr in 0..<(nb / 2) {
                let (w0, w1, w2, w3, w4, w5, w6, w7) = decodePair(r, pr)
                let bA = r * nb + 2 * pr
                let dA = SIMD8(repeating: scales[bA]), dB = SIMD8(repeating: scales[bA + 1])
                for n in 0..<N {
                    let x = inp + n * cols + pr * 64
                    var a = w0 * loadX(x), b = w4 * loadX(x + 32)
                    a.addProduct(w1, loadX(x + 8)); a.addProduct(w2, loadX(x + 16)); a.addProduct(w3, loadX(x + 24))
                    b.addProduct(w5, loadX(x + 40)); b.addProduct(w6, loadX(x + 48)); b.addProduct(w7, loadX(x + 56))
                    acc[n].addProduct(a, dA)
                    acc[n].addProduct(b, dB)
                }
            }
            // The mins multiply the per-block input sums: one short dot per input, outside the hot loop.
            for n in 0..<N { out[n * rows + r] = acc[n].sum() + Kernels.dot(mins + r * nb, sums + n * nb, nb) }
        }
    }

    /// One 8-bit row against one input, accumulators in registers. Codes are q + 128: the bias subtracts 2²³ + 128.
    private func dot8(row r: Int, _ x: UnsafePointer<Float>) -> Float {
        let nb = blocksPerRow
        let bias: Float = 8_388_608 + 128
        let rowCodes = UnsafeRawPointer(codes + r * nb * 32), rowScales = scales + r * nb
        var acc = SIMD8<Float>()
        for b in 0..<nb {
            let v = rowCodes.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<UInt32>.self)
            let xb = x + b * 32
            var a = Self.field(v, shift: 0, mask: 0xFF, bias: bias) * loadX(xb)
            a.addProduct(Self.field(v, shift: 8, mask: 0xFF, bias: bias), loadX(xb + 8))
            a.addProduct(Self.field(v, shift: 16, mask: 0xFF, bias: bias), loadX(xb + 16))
            a.addProduct(Self.field(v, shift: 24, mask: 0xFF, bias: bias), loadX(xb + 24))
            acc.addProduct(a, SIMD8(repeating: rowScales[b]))
        }
        return acc.sum()
    }

    /// 8-bit rows for N inputs: each block decoded once.
    private func dot8(row r: Int, _ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, N: Int) {
        let nb = blocksPerRow
        let bias: Float = 8_388_608 + 128
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: N) { acc in
            acc.initialize(repeating: SIMD8<Float>())
            for b in 0..<nb {
                let v = UnsafeRawPointer(codes + (r * nb + b) * 32).loadUnaligned(as: SIMD8<UInt32>.self)
                let w0 = Self.field(v, shift: 0, mask: 0xFF, bias: bias), w1 = Self.field(v, shift: 8, mask: 0xFF, bias: bias)
                let w2 = Self.field(v, shift: 16, mask: 0xFF, bias: bias), w3 = Self.field(v, shift: 24, mask: 0xFF, bias: bias)
                let d = scales[r * nb + b]
                for n in 0..<N {
                    let x = inp + n * cols + b * 32
                    var a = w0 * loadX(x)
                    a.addProduct(w1, loadX(x + 8)); a.addProduct(w2, loadX(x + 16)); a.addProduct(w3, loadX(x + 24))
                    acc[n].addProduct(a, SIMD8(repeating: d))
                }
            }
            for n in 0..<N { out[n * rows + r] = acc[n].sum() }
        }
    }
}
