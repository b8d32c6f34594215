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
    /// types are re-encoded as Q8_0 from `parameters`, or, without them, from the tensor decoded from the file.
    /// `includeHead: false` leaves the output head out (a trainer that runs its head in fp32).
    public init(gguf file: GGUFFile, parameters p: LlamaParameters?, activations: QuantizedActivations = .float,
                includeHead: Bool = true) throws {
        self.activations = activations
        let c = try p?.config ?? LlamaConfig(gguf: file)
        if let why = Self.unsupportedReason(c) {
            throw DistillMLError(file: file.path, "4/8-bit weights cannot be used: \(why); load it with precision 'exact'")
        }
        var matrices: [Key: QuantizedMatrix] = [:]
        let permuted = c.architecture == "llama"
        for (kind, l) in Self.matrixEntries(c) where includeHead || kind != .output {
            let (rows, cols) = kind.shape(c)
            let unpermute = permuted && (kind == .wq || kind == .wk)
            let info = try Self.tensorInfo(kind, l, file, c)
            if Self.keepsBlocks(info, cols: cols) {
                let headDim = c.headDim
                matrices[Key(kind: kind, layer: l)] = QuantizedMatrix(
                    rows: rows, cols: cols, type: info.type, blocks: file.bytes(of: info).baseAddress!, activations: activations,
                    sourceRow: unpermute ? { LlamaParameters.ggufRow(ofHFRow: $0, headDim: headDim) } : { $0 })
                if p == nil && !(kind == .output && c.tiedEmbeddings) { file.releaseResidentPages(of: info) }
            } else if let source = kind == .output ? p?.head : p?.pointer(kind, layer: l) {
                matrices[Key(kind: kind, layer: l)] = QuantizedMatrix(rows: rows, cols: cols, q8From: source, activations: activations)
            } else {
                var values = try GGMLDequantize.tensor(info, in: file)
                if unpermute {
                    let fileOrder = values
                    values.withUnsafeMutableBufferPointer { dst in
                        fileOrder.withUnsafeBufferPointer { src in
                            LlamaParameters.unpermuteRows(dst.baseAddress!, src.baseAddress!, heads: rows / c.headDim,
                                                          headDim: c.headDim, cols: cols)
                        }
                    }
                }
                matrices[Key(kind: kind, layer: l)] = values.withUnsafeBufferPointer {
                    QuantizedMatrix(rows: rows, cols: cols, q8From: $0.baseAddress!, activations: activations)
                }
            }
        }
        self.matrices = matrices
    }

    /// Whether every matrix of `file` (the head included) is stored in blocks these kernels take as they are
    /// (Q4_0/Q4_1 with rows of whole 64-value pairs, Q8_0): then the 4/8-bit path needs no fp32 copy of them.
    public static func fileBlocksCoverEveryMatrix(_ file: GGUFFile, _ c: LlamaConfig) -> Bool {
        unsupportedReason(c) == nil && matrixEntries(c).allSatisfy { kind, l in
            (try? tensorInfo(kind, l, file, c)).map { keepsBlocks($0, cols: kind.shape(c).cols) } ?? false
        }
    }

    /// The seven projections of every layer, then the head (`.output`, layer 0; the embedding when tied).
    private static func matrixEntries(_ c: LlamaConfig) -> [(LlamaParameters.Kind, Int)] {
        (0..<c.layers).flatMap { l in linearKinds.map { ($0, l) } } + [(.output, 0)]
    }

    private static func keepsBlocks(_ info: GGUFTensorInfo, cols: Int) -> Bool {
        info.type == .q8_0 || ((info.type == .q4_0 || info.type == .q4_1) && cols % 64 == 0)
    }

    /// The file's tensor for a matrix, of the shape the metadata gives.
    private static func tensorInfo(_ kind: LlamaParameters.Kind, _ l: Int, _ file: GGUFFile, _ c: LlamaConfig) throws -> GGUFTensorInfo {
        let name = kind == .output && c.tiedEmbeddings ? "token_embd.weight" : kind.ggufName(layer: l)
        let (rows, cols) = kind.shape(c)
        guard let info = file.tensor(named: name), info.dims == [cols, rows] else {
            throw DistillMLError(file: file.path, at: "tensor '\(name)'", "missing or not of shape [\(cols), \(rows)] (from the metadata)")
        }
        return info
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

    /// The matrix of `kind` in `layer` (`.output`: the head, layer 0).
    func matrix(_ kind: LlamaParameters.Kind, layer: Int) -> QuantizedMatrix? {
        matrices[Key(kind: kind, layer: kind == .output ? 0 : layer)]
    }

    /// Bytes of weights read per token.
    public var bytes: Int { matrices.values.reduce(0) { $0 + $1.byteCount } }
}

/// How the quantised-weight kernels take their inputs.
public enum QuantizedActivations: String, Sendable {
    /// fp32 inputs against weights decoded in registers: only the summation order differs from the exact path.
    case float
    /// Inputs quantised to int8 per 32-block (scale amax/127, ggml's Q8_1) and multiplied with the weight codes in
    /// integers, as llama.cpp does: several times fewer instructions per weight, inputs rounded to 8 bits.
    case int8
}
