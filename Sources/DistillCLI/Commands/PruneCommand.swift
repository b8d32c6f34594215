import DistillData
import DistillML
import Foundation

/// `distill prune`: a shallower student cut from a model by keeping some of its layers.
struct PruneCommand: DistillCommand {
    static let model: Option<String> = .value("model", "M", default: ModelStore.defaultName, help: "GGUF file, HF folder or known model name")
    static let keepLayers: Option<String?> = .value("keep-layers", "LIST", help: "layers to keep, 0-based: 0,2,4 or ranges 0-7,22-29")
    static let keepEvery: Option<Int?> = .value("keep-every", "K", help: "keep every K-th layer (and the last)")
    static let out: Option<String?> = .value("out", "FILE", help: "output: a .gguf file (GGUF base) or a folder (HF safetensors + config.json)")
    static let type: Option<String> = .value("type", "T", default: "f32", help: "GGUF matrix type: f32, f16, q8_0, q4_0 or q4_1")

    static let spec = CommandSpec(
        name: "prune",
        abstract: "cut a smaller student from a model by keeping some of its layers (GGUF or HF folder out)",
        usage: "--model M (--keep-layers LIST | --keep-every K) --out FILE",
        discussion: """
            The kept layers are copied unchanged, in order; the embedding, final norm and head are kept. --keep-every K
            keeps layers 0, K, 2K, … and always the last one. The student starts worse than its teacher and is meant
            to be trained (distill train --full) on the teacher's outputs.

            """,
        options: [
            model,
            keepLayers,
            keepEvery,
            out,
            type,
        ],
        examples: """
              distill prune --model smollm2-135m --keep-every 2 --out runs/student/smollm2-15l.gguf   # 30 → 16 layers
              distill prune --model smollm2-135m --keep-layers 0-7,22-29 --out runs/student/half.gguf --type f16
            """)

    var model: String
    var keepLayers: [Int]?
    var keepEvery: Int?
    var out: String
    var type: GGMLType

    init(_ args: ParsedArguments) throws {
        model = args[Self.model]
        out = try args.required(Self.out)
        switch (args[Self.keepLayers], args[Self.keepEvery]) {
        case (let list?, nil): keepLayers = try Self.parseLayers(list)
        case (nil, let k?):
            guard k >= 1 else { throw UsageError("--keep-every must be at least 1") }
            keepEvery = k
        default: throw UsageError("give exactly one of --keep-layers LIST and --keep-every K")
        }
        switch args[Self.type] {
        case "f32": type = .f32
        case "f16": type = .f16
        case "q8_0": type = .q8_0
        case "q4_0": type = .q4_0
        case "q4_1": type = .q4_1
        case let t: throw UsageError("--type: '\(t)' is not f32, f16, q8_0, q4_0 or q4_1")
        }
    }

    /// `0,2,4` or `0-7,22-29` → sorted, distinct layer indices.
    static func parseLayers(_ s: String) throws -> [Int] {
        var out: [Int] = []
        for part in s.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pieces = part.split(separator: "-", omittingEmptySubsequences: false)
            let ends = pieces.compactMap { Int($0) }
            if pieces.count == 1, ends.count == 1 {
                out.append(ends[0])
            } else if pieces.count == 2, ends.count == 2, ends[0] <= ends[1], ends[1] - ends[0] < 100_000 {
                out.append(contentsOf: ends[0]...ends[1])
            } else {
                throw UsageError("--keep-layers: '\(part)' is not a layer number or a range like 0-7")
            }
        }
        guard !out.isEmpty else { throw UsageError("--keep-layers: no layers given") }
        return Array(Set(out)).sorted()
    }

    func run() async throws {
        let path = try ModelStore.resolve(model)
        let (parameters, _) = try ModelFiles.load(path)
        let keep = keepLayers ?? LlamaParameters.everyKth(keepEvery ?? 1, of: parameters.config.layers)
        let pruned: LlamaParameters
        do { pruned = try parameters.keepingLayers(keep) } catch let e as DistillMLError {
            throw UsageError(e.message)
        }
        if out.hasSuffix(".gguf") {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: out).deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true)
            try ModelFiles.writeGGUF(pruned, to: out, type: type, source: path)
        } else {
            try ModelFiles.writeHuggingFace(pruned, to: out, source: path)
        }
        TrainRun.note("prune: kept \(keep.count) of \(parameters.config.layers) layers (\(keep.map(String.init).joined(separator: ","))); "
            + "\(pruned.count) parameters (was \(parameters.count)) → \(out)")
    }
}
