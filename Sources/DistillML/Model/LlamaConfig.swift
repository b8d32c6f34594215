import DistillData
import Foundation

/// Hyper-parameters of a Llama-family decoder (`llama`: SmolLM2, Llama 3.x, TinyLlama; `qwen2`: Qwen2.5).
///
/// The file keys are mapped here and nowhere else: GGUF `{arch}.*` metadata and HF `config.json` names.
public struct LlamaConfig: Sendable, Equatable, Codable {
    public var architecture: String
    public var layers: Int
    /// d_model (C).
    public var dim: Int
    /// d_ff of the SwiGLU block.
    public var hiddenDim: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float
    /// q/k/v projections carry biases (qwen2).
    public var attentionBias: Bool
    /// The output head shares the token embedding (no separate `output.weight` / `lm_head.weight`).
    public var tiedEmbeddings: Bool
    /// Llama 3.1-style RoPE scaling: rotation frequency i is divided by factor i (GGUF `rope_freqs.weight`).
    public var ropeFreqFactors: [Float]?
    /// The HF parameters those factors came from, when they came from a config.json (written back on export).
    public var llama3RopeScaling: Llama3RopeScaling?

    /// HF `rope_type: "llama3"` parameters (transformers `_compute_llama3_parameters`).
    public struct Llama3RopeScaling: Sendable, Equatable, Codable {
        public var factor: Double
        public var lowFreqFactor: Double
        public var highFreqFactor: Double
        public var originalContextLength: Double

        /// inv_freq / inv_freq_llama3 for each of the `half` frequencies.
        public func freqFactors(theta: Float, headDim: Int) -> [Float] {
            let lowWavelen = originalContextLength / lowFreqFactor, highWavelen = originalContextLength / highFreqFactor
            return (0..<(headDim / 2)).map { i in
                let invFreq = Double(1 / powf(theta, Float(2 * i) / Float(headDim)))
                let wavelen = 2 * Double.pi / invFreq
                if wavelen < highWavelen { return 1 }
                if wavelen > lowWavelen { return Float(factor) }
                let smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
                return Float(1 / ((1 - smooth) / factor + smooth))
            }
        }
    }

    public init(architecture: String, layers: Int, dim: Int, hiddenDim: Int, heads: Int, kvHeads: Int, headDim: Int? = nil,
                vocabSize: Int, contextLength: Int = 2048, ropeTheta: Float = 10_000, rmsNormEps: Float = 1e-5,
                attentionBias: Bool = false, tiedEmbeddings: Bool = true) {
        self.architecture = architecture
        self.layers = layers
        self.dim = dim
        self.hiddenDim = hiddenDim
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim ?? dim / heads
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.attentionBias = attentionBias
        self.tiedEmbeddings = tiedEmbeddings
    }

    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    static let supportedArchitectures = ["llama", "qwen2"]

    /// Reads `{arch}.*` hyper-parameters from GGUF metadata (llama.cpp `llm_load_hparams`).
    public init(gguf f: GGUFFile) throws {
        guard let arch = f.architecture else {
            throw DistillMLError(file: f.path, at: "key 'general.architecture'", "missing: this GGUF does not say what model it holds")
        }
        guard Self.supportedArchitectures.contains(arch) else {
            throw DistillMLError(file: f.path, at: "key 'general.architecture'",
                "architecture '\(arch)' is not supported (supported: \(Self.supportedArchitectures.joined(separator: ", ")))")
        }
        func req(_ key: String) throws -> Int {
            guard let v = f.int("\(arch).\(key)"), v > 0 else {
                throw DistillMLError(file: f.path, at: "key '\(arch).\(key)'", "missing or not a positive integer")
            }
            return v
        }
        let dim = try req("embedding_length"), heads = try req("attention.head_count")
        guard let embd = f.tensor(named: "token_embd.weight"), embd.dims.count == 2 else {
            throw DistillMLError(file: f.path, at: "tensor 'token_embd.weight'", "missing or not 2-D")
        }
        self.init(architecture: arch, layers: try req("block_count"), dim: dim, hiddenDim: try req("feed_forward_length"),
                  heads: heads, kvHeads: f.int("\(arch).attention.head_count_kv") ?? heads,
                  headDim: f.int("\(arch).attention.key_length") ?? f.int("\(arch).rope.dimension_count") ?? dim / heads,
                  vocabSize: embd.dims[1], contextLength: f.int("\(arch).context_length") ?? 2048,
                  ropeTheta: f.float("\(arch).rope.freq_base") ?? 10_000,
                  rmsNormEps: f.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5,
                  attentionBias: f.tensor(named: "blk.0.attn_q.bias") != nil,
                  tiedEmbeddings: f.tensor(named: "output.weight") == nil)
        if let freqs = f.tensor(named: "rope_freqs.weight") {
            guard freqs.dims == [headDim / 2] else {
                throw DistillMLError(file: f.path, at: "tensor 'rope_freqs.weight'", "shape \(freqs.dims), expected [\(headDim / 2)]")
            }
            ropeFreqFactors = try GGMLDequantize.tensor(freqs, in: f)
        }
        try validate(file: f.path)
    }

    /// Reads an HF `config.json` (`LlamaForCausalLM`, `Qwen2ForCausalLM`, `MistralForCausalLM`).
    public init(hfConfigPath path: String) throws {
        let data: Data
        do {
            try FileChecks.requireReadableFile(path)
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let e as DataError {
            throw DistillMLError(file: path, e.message)
        } catch {
            throw DistillMLError(file: path, "cannot read: \(error.localizedDescription)")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DistillMLError(file: path, "not a JSON object")
        }
        func int(_ key: String) throws -> Int {
            guard let v = json[key] as? Int, v > 0 else {
                throw DistillMLError(file: path, at: "field '\(key)'", "missing or not a positive integer")
            }
            return v
        }
        func float(_ key: String, _ def: Float) -> Float { (json[key] as? Double).map(Float.init) ?? def }
        let declaredType = json["model_type"] as? String ?? ""
        // Mistral 7B (`MistralForCausalLM`) is the Llama architecture; v0.1 adds a 4096-token sliding window, which
        // changes nothing while the context stays within it, so the context is capped there.
        let modelType = declaredType == "mistral" ? "llama" : declaredType
        guard Self.supportedArchitectures.contains(modelType) else {
            throw DistillMLError(file: path, at: "field 'model_type'",
                "'\(declaredType)' is not supported (supported: \(Self.supportedArchitectures.joined(separator: ", ")), mistral)")
        }
        let slidingWindow = declaredType == "mistral" ? (json["sliding_window"] as? Int).flatMap { $0 > 0 ? $0 : nil } : nil
        // transformers ≥ 5 nests RoPE settings in `rope_parameters`; older files have `rope_theta` / `rope_scaling`.
        let ropeParameters = json["rope_parameters"] as? [String: Any] ?? json["rope_scaling"] as? [String: Any] ?? [:]
        let ropeType = ropeParameters["rope_type"] as? String ?? ropeParameters["type"] as? String ?? "default"
        var llama3: Llama3RopeScaling?
        switch ropeType {
        case "default": break
        case "llama3":
            guard let factor = ropeParameters["factor"] as? Double, let low = ropeParameters["low_freq_factor"] as? Double,
                  let high = ropeParameters["high_freq_factor"] as? Double, high > low,
                  let original = ropeParameters["original_max_position_embeddings"] as? Double else {
                throw DistillMLError(file: path, at: "field 'rope_parameters'",
                    "llama3 RoPE needs factor, low_freq_factor < high_freq_factor and original_max_position_embeddings")
            }
            llama3 = Llama3RopeScaling(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalContextLength: original)
        default:
            throw DistillMLError(file: path, at: "field 'rope_parameters'", "RoPE type '\(ropeType)' is not supported (default and llama3 are)")
        }
        if json["use_sliding_window"] as? Bool == true {
            throw DistillMLError(file: path, at: "field 'use_sliding_window'", "sliding-window attention is not supported")
        }
        let ropeTheta = (ropeParameters["rope_theta"] as? Double) ?? (json["rope_theta"] as? Double) ?? 10_000
        let dim = try int("hidden_size"), heads = try int("num_attention_heads")
        self.init(architecture: modelType, layers: try int("num_hidden_layers"), dim: dim, hiddenDim: try int("intermediate_size"),
                  heads: heads, kvHeads: (json["num_key_value_heads"] as? Int) ?? heads,
                  headDim: (json["head_dim"] as? Int) ?? dim / heads, vocabSize: try int("vocab_size"),
                  contextLength: min((json["max_position_embeddings"] as? Int) ?? 2048, slidingWindow ?? Int.max),
                  ropeTheta: Float(ropeTheta), rmsNormEps: float("rms_norm_eps", 1e-6),
                  attentionBias: (json["attention_bias"] as? Bool) ?? (modelType == "qwen2"),
                  tiedEmbeddings: (json["tie_word_embeddings"] as? Bool) ?? true)
        llama3RopeScaling = llama3
        ropeFreqFactors = llama3?.freqFactors(theta: self.ropeTheta, headDim: headDim)
        try validate(file: path)
    }

    /// Checks the hyper-parameters against each other before anything is sized from them: every count positive,
    /// heads divisible by key/value heads, and every tensor size computable without overflow.
    func validate(file: String) throws {
        let fields: [(String, Int)] = [("layers", layers), ("hidden size", dim), ("feed-forward size", hiddenDim),
                                       ("attention heads", heads), ("key/value heads", kvHeads), ("head dimension", headDim),
                                       ("vocabulary size", vocabSize), ("context length", contextLength)]
        for (name, value) in fields where value <= 0 {
            throw DistillMLError(file: file, "\(name) is \(value); it must be a positive integer: the configuration is corrupt")
        }
        guard contextLength <= 1 << 30 else {
            throw DistillMLError(file: file, "context length \(contextLength) is beyond 2^30 tokens: the configuration is corrupt")
        }
        guard heads % kvHeads == 0 else {
            throw DistillMLError(file: file, "\(heads) attention heads are not a multiple of \(kvHeads) key/value heads")
        }
        guard headDim % 2 == 0 else { throw DistillMLError(file: file, "head dimension \(headDim) is odd; RoPE needs pairs") }
        _ = try parameterCount(file: file)
    }

    /// The number of Float parameters the model holds, computed with overflow checks: a configuration whose
    /// sizes overflow (or exceed 2^40 values, 4 TB) is an error naming `file`, never a crash or a huge allocation.
    public func parameterCount(file: String) throws -> Int {
        func mul(_ a: Int, _ b: Int) throws -> Int {
            let (p, o) = a.multipliedReportingOverflow(by: b)
            guard !o, p <= Self.maxParameters else {
                throw DistillMLError(file: file, "sizes overflow (\(a) × \(b)): layers \(layers), hidden \(dim), "
                    + "feed-forward \(hiddenDim), heads \(heads)/\(kvHeads) of \(headDim), vocabulary \(vocabSize); the configuration is corrupt")
            }
            return p
        }
        _ = try mul(heads, headDim)
        _ = try mul(kvHeads, headDim)
        var total = 0
        for kind in LlamaParameters.Kind.allCases where kind.present(self) {
            let (r, c) = kind.shape(self)
            let n = try mul(try mul(r, c), kind.perLayer ? layers : 1)
            total += n  // each term ≤ 2^40 and there are 15 kinds: no overflow
        }
        guard total <= Self.maxParameters else {
            throw DistillMLError(file: file, "the configuration describes \(total) parameters, more than 2^40: it is corrupt")
        }
        return total
    }

    /// 2^40 Float values: far beyond any model this engine can run, small enough that sums of them never overflow.
    static let maxParameters = 1 << 40

    /// The HF `config.json` for this configuration (what the safetensors writer puts beside the weights).
    public func hfConfigJSON() throws -> [String: Any] {
        var rope: [String: Any] = ["rope_theta": Double(ropeTheta), "rope_type": "default"]
        if let s = llama3RopeScaling {
            rope = ["rope_theta": Double(ropeTheta), "rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFreqFactor,
                    "high_freq_factor": s.highFreqFactor, "original_max_position_embeddings": s.originalContextLength]
        } else if ropeFreqFactors != nil {
            throw DistillMLError(file: "config.json", at: "field 'rope_parameters'",
                "this model's RoPE frequency factors came from a GGUF and have no config.json form; export it as GGUF")
        }
        return [
            "architectures": [architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
            "model_type": architecture, "num_hidden_layers": layers, "hidden_size": dim, "intermediate_size": hiddenDim,
            "num_attention_heads": heads, "num_key_value_heads": kvHeads, "head_dim": headDim, "vocab_size": vocabSize,
            "max_position_embeddings": contextLength, "rope_theta": Double(ropeTheta),
            "rope_parameters": rope, "rms_norm_eps": Double(rmsNormEps),
            "attention_bias": attentionBias, "tie_word_embeddings": tiedEmbeddings, "hidden_act": "silu",
            "torch_dtype": "float32",
        ]
    }
}

extension LlamaConfig {
    /// cos/sin tables (positions, headDim/2) computed as HF LlamaRotaryEmbedding does, in float32:
    /// inv_freq = 1 / base^(2i/d) (divided by the Llama 3.1 factors if any), angle = float32(pos · inv_freq).
    func ropeTables(positions: Int) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        let factors = ropeFreqFactors ?? [Float](repeating: 1, count: half)
        let invFreq = (0..<half).map { i in 1 / powf(ropeTheta, Float(2 * i) / Float(headDim)) / factors[i] }
        var cosT = [Float](repeating: 0, count: positions * half), sinT = cosT
        for pos in 0..<positions {
            for i in 0..<half {
                let angle = Double(Float(pos) * invFreq[i])
                cosT[pos * half + i] = Float(cos(angle))
                sinT[pos * half + i] = Float(sin(angle))
            }
        }
        return (cosT, sinT)
    }
}
