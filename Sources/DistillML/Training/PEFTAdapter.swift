import COpenBLAS
import DistillData
import Foundation

/// A LoRA adapter in PEFT's on-disk form: `adapter_config.json` + `adapter_model.safetensors` with tensors named
/// `base_model.model.model.layers.{i}.{self_attn|mlp}.{proj}.lora_A.weight` [r, in] and `…lora_B.weight` [out, r].
/// `PeftModel.from_pretrained(base, DIR)` loads it; `merge(into:)` folds it into a base model
/// (W ← W + (alpha/r)·B·A, Hu et al. 2021), which is how `distill generate --adapter` runs it.
public struct PEFTAdapter: Sendable {
    public struct Config: Sendable, Equatable {
        public var r: Int
        public var alpha: Double
        public var dropout: Double
        /// HF module names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj.
        public var targetModules: [String]
        public var baseModel: String

        public init(r: Int, alpha: Double, dropout: Double, targetModules: [String], baseModel: String) {
            self.r = r
            self.alpha = alpha
            self.dropout = dropout
            self.targetModules = targetModules
            self.baseModel = baseModel
        }

        public var scale: Float { Float(alpha / Double(r)) }
    }

    public var config: Config
    /// name → (shape, values), PEFT names.
    public var tensors: [String: (shape: [Int], values: [Float])]

    public init(config: Config, tensors: [String: (shape: [Int], values: [Float])]) {
        self.config = config
        self.tensors = tensors
    }

    /// The LoRA tensors of a trained model's slab (names containing `lora_`).
    public init(config: Config, model: any TrainableModel) {
        var t: [String: (shape: [Int], values: [Float])] = [:]
        for tensor in model.tensors where tensor.name.contains(".lora_") {
            t[tensor.name] = (tensor.shape, Array(model.parameters[tensor.offset..<(tensor.offset + tensor.count)]))
        }
        self.init(config: config, tensors: t)
    }

    /// The module names PEFT uses for `--lora-targets` short names (q, k, v, o, gate, up, down).
    public static let moduleNames: [String: String] = ["q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj",
                                                       "gate": "gate_proj", "up": "up_proj", "down": "down_proj"]

    static let kinds: [String: LlamaParameters.Kind] = ["q_proj": .wq, "k_proj": .wk, "v_proj": .wv, "o_proj": .wo,
                                                        "gate_proj": .wGate, "up_proj": .wUp, "down_proj": .wDown]

    /// Writes `adapter_config.json` and `adapter_model.safetensors` into `directory`.
    public func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var w = SafetensorsWriter()
        for name in tensors.keys.sorted() {
            if let t = tensors[name] { w.add(name, shape: t.shape, values: t.values) }
        }
        try w.write(to: directory + "/adapter_model.safetensors")
        let json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.r, "lora_alpha": config.alpha,
            "lora_dropout": config.dropout, "target_modules": config.targetModules.sorted(),
            "base_model_name_or_path": config.baseModel, "bias": "none", "fan_in_fan_out": false,
            "inference_mode": true, "init_lora_weights": true, "modules_to_save": NSNull(), "use_rslora": false,
            "use_dora": false, "layers_to_transform": NSNull(), "revision": NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(data, to: directory + "/adapter_config.json")
    }

    /// Reads a PEFT LoRA adapter folder (F32/F16/BF16 tensors), checking its config.
    public static func read(_ directory: String) throws -> PEFTAdapter {
        let configPath = directory + "/adapter_config.json"
        guard let data = FileManager.default.contents(atPath: configPath),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DataError(file: configPath, "missing or not JSON: an adapter folder holds adapter_config.json and adapter_model.safetensors")
        }
        guard (json["peft_type"] as? String) == "LORA" else {
            throw DataError(file: configPath, field: "peft_type", "is \(json["peft_type"] ?? "absent"); only LORA adapters can be run")
        }
        guard let r = json["r"] as? Int, r > 0, let alpha = (json["lora_alpha"] as? NSNumber)?.doubleValue else {
            throw DataError(file: configPath, field: "r", "r and lora_alpha must be positive numbers")
        }
        if json["use_dora"] as? Bool == true || json["use_rslora"] as? Bool == true {
            throw DataError(file: configPath, field: "use_dora", "DoRA and rsLoRA adapters are not supported; plain LoRA only")
        }
        let targets = json["target_modules"] as? [String] ?? []
        let config = Config(r: r, alpha: alpha, dropout: (json["lora_dropout"] as? NSNumber)?.doubleValue ?? 0,
                            targetModules: targets, baseModel: json["base_model_name_or_path"] as? String ?? "")
        let file = try SafetensorsFile(path: directory + "/adapter_model.safetensors")
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (name, info) in file.tensors {
            var values = [Float](repeating: 0, count: info.elementCount)
            try values.withUnsafeMutableBufferPointer { try file.read(info, into: $0.baseAddress!) }
            tensors[name] = (info.shape, values)
        }
        return PEFTAdapter(config: config, tensors: tensors)
    }

    /// Folds the adapter into `base`: W ← W + (alpha/r)·B·A for every LoRA pair. Refuses an adapter whose shapes or
    /// layers do not fit this base (an adapter from another model), naming both.
    public func merge(into base: LlamaParameters, baseName: String, adapterName: String) throws {
        for p in try pairs(fitting: base.config, adapterName: adapterName, baseName: baseName) {
            let (rows, cols) = p.kind.shape(base.config)
            guard let w = base.pointer(p.kind, layer: p.layer) else {
                throw DataError(file: adapterName, field: p.kind.ggufName(layer: p.layer), "\(baseName) has no such weight")
            }
            let (a, b) = (p.a, p.b)
            let r = a.shape[0]
            // W (rows, cols) += scale · B (rows, r) · A (r, cols)
            b.values.withUnsafeBufferPointer { bp in
                a.values.withUnsafeBufferPointer { ap in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(r), config.scale,
                                bp.baseAddress, Int32(r), ap.baseAddress, Int32(cols), 1, w, Int32(cols))
                }
            }
        }
    }
}
