import Foundation

/// The model's matrices kept in 4- or 8-bit blocks for memory-bound decoding (a 135M model reads 540 MB of fp32
/// weights per token, but 85 MB of Q4_1).
///
/// Built from the GGUF's own blocks where they are Q4_0/Q4_1/Q8_0 (so the weights are exactly those the fp32 path
/// dequantises: only the summation order differs), and from the fp32 parameters re-encoded as Q8_0 otherwise (an
/// approximation, reported by the parity tests). Activations stay fp32 (`.float`) or are quantised to int8 as
/// llama.cpp does (`.int8`, several times faster, logits ~1% off; see `QuantizedMatrix+Int8`).
public final class QuantizedLinears {
    let matrices: [Key: QuantizedMatrix]
    public let activations: QuantizedActivations

    struct Key: Hashable {
        var kind: LlamaParameters.Kind
        var layer: Int
    }

    static let linearKinds: [LlamaParameters.Kind] = [.wq, .wk, .wv, .wo, .wGate, .wUp, .wDown]

    /// Keeps the file's Q4_0/Q4_1/Q8_0 blocks (llama q/k rows un-permuted, as the fp32 loader does); other
    /// types are re-encoded from `parameters` as Q8_0.
    public init(gguf file: GGUFFile, parameters p: LlamaParameters, activations: QuantizedActivations = .float) throws {
        self.activations = activations
        let c = p.config
        if let why = Self.unsupportedReason(c) {
            throw DistillMLError(file: file.path, "4/8-bit weights cannot be used: \(why); load it with precision 'exact'")
        }
        var matrices: [Key: QuantizedMatrix] = [:]
        func add(_ kind: LlamaParameters.Kind, _ layer: Int, tensorName: String, source: UnsafePointer<Float>, unpermute: Bool) throws {
            let (rows, cols) = kind.shape(c)
            if let info = file.tensor(named: tensorName), info.dims == [cols, rows],
               info.type == .q8_0 || ((info.type == .q4_0 || info.type == .q4_1) && cols % 64 == 0) {
                let headDim = c.headDim
                matrices[Key(kind: kind, layer: layer)] = QuantizedMatrix(
                    rows: rows, cols: cols, type: info.type, blocks: file.bytes(of: info).baseAddress!, activations: activations,
                    sourceRow: unpermute ? { LlamaParameters.ggufRow(ofHFRow: $0, headDim: headDim) } : { $0 })
            } else {
                matrices[Key(kind: kind, layer: layer)] = QuantizedMatrix(rows: rows, cols: cols, q8From: source, activations: activations)
            }
        }
        let permuted = c.architecture == "llama"
        for l in 0..<c.layers {
            for kind in Self.linearKinds {
                try add(kind, l, tensorName: kind.ggufName(layer: l), source: p.view(kind, l),
                        unpermute: permuted && (kind == .wq || kind == .wk))
            }
        }
        try add(.output, 0, tensorName: c.tiedEmbeddings ? "token_embd.weight" : "output.weight", source: p.head, unpermute: false)
        self.matrices = matrices
    }

    /// Every matrix re-encoded from fp32 as Q8_0 (for models loaded from safetensors or F32/F16 GGUF).
    public init(q8From p: LlamaParameters, activations: QuantizedActivations = .float) {
        self.activations = activations
        var matrices: [Key: QuantizedMatrix] = [:]
        for l in 0..<p.config.layers {
            for kind in Self.linearKinds {
                let (rows, cols) = kind.shape(p.config)
                matrices[Key(kind: kind, layer: l)] = QuantizedMatrix(rows: rows, cols: cols, q8From: p.view(kind, l), activations: activations)
            }
        }
        matrices[Key(kind: .output, layer: 0)] = QuantizedMatrix(rows: p.config.vocabSize, cols: p.config.dim, q8From: p.head,
                                                                      activations: activations)
        self.matrices = matrices
    }

    /// Why `config`'s matrices cannot be held in 32-value blocks (every row length must be a multiple of 32), or
    /// nil when they can. The initialisers trap on such a model, so callers check first.
    public static func unsupportedReason(_ c: LlamaConfig) -> String? {
        for (name, cols) in [("hidden size", c.dim), ("attention width", c.qDim), ("feed-forward size", c.hiddenDim)] where cols % 32 != 0 {
            return "its \(name) \(cols) is not a multiple of the 32-value quantisation block"
        }
        return nil
    }

    /// Whether this build has the int8-activation kernels (x86-64 with AVX2, the default build there).
    public static var int8Available: Bool { QuantizedMatrix.int8Available }

    /// The instructions the int8 kernels use on this CPU ("AVX-512 VNNI" or "AVX2"; "none" in builds without them).
    public static var int8KernelName: String {
        guard int8Available else { return "none" }
        return QuantizedMatrix.Int8Kernel.best == .avx512vnni ? "AVX-512 VNNI" : "AVX2"
    }

    /// Bytes of weights read per token.
    public var bytes: Int { matrices.values.reduce(0) { $0 + $1.byteCount } }

    /// One product of the layer's input: out(N,OC) = inp(N,C) · W(OC,C)ᵀ (+ bias), W the matrix of `kind`.
    struct Product {
        var out: UnsafeMutablePointer<Float>
        var kind: LlamaParameters.Kind
        var bias: UnsafePointer<Float>?
    }

    /// The products of one input `inp` (N, C) in `layer` (`.output` is the head). With int8 activations they are one
    /// kernel call, which quantises the input once and spreads all the matrices' rows over one parallel loop
    /// (q/k/v and gate/up share their input).
    func matmul(_ products: [Product], _ inp: UnsafePointer<Float>, layer: Int, N: Int) {
        let parts = products.map { product -> (QuantizedMatrix, UnsafeMutablePointer<Float>) in
            guard let m = matrices[Key(kind: product.kind, layer: product.kind == .output ? 0 : layer)] else {
                preconditionFailure("no quantised matrix for \(product.kind) layer \(layer)")
            }
            return (m, product.out)
        }
        if activations == .int8 {
            QuantizedMatrix.matmulInt8(parts, inp, N: N)
        } else {
            for (m, out) in parts { m.matmul(out, inp, N: N) }
        }
        for (product, (m, _)) in zip(products, parts) {
            guard let bias = product.bias else { continue }
            for n in 0..<N {
                for o in 0..<m.rows { product.out[n * m.rows + o] += bias[o] }
            }
        }
    }
}

/// How the quantised-weight kernels take their inputs.
public enum QuantizedActivations: String, Sendable {
    /// fp32 inputs against weights decoded in registers: only the summation order differs from the exact path.
    case float
    /// Inputs quantised to int8 per 32-block (scale amax/127, ggml's Q8_1) and multiplied with the weight codes in
    /// integers, as llama.cpp does: several times fewer instructions per weight, inputs rounded to 8 bits.
    case int8
}
