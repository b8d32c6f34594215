import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `distill train` end to end on the tiny test model: trains, resumes, refuses another run, exports an adapter that
/// `generate --adapter` runs and a merged GGUF that loads; `distill prune`.
@Suite struct TrainCommandTests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try Self.writeData(dir + "/data.jsonl", items: 40)
    }

    /// Alpaca rows the tiny byte-level tokenizer can spell, one truncated by the teacher and one empty (dropped).
    static func writeData(_ path: String, items: Int) throws {
        var lines = (0..<items).map { i in
            #"{"instruction": "Say the number \#(i) twice", "input": "", "output": "the \#(i) the \#(i) 好"}"#
        }
        lines.append(#"{"instruction": "cut", "output": "half", "finish_reason": "length"}"#)
        lines.append(#"{"instruction": "nothing", "output": ""}"#)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func args(model: String, data: String, out: String, _ extra: [String] = []) -> [String] {
        ["train", "--model", model, "--data", data, "--out", out, "--epochs", "2", "--batch", "4", "--max-seq", "64",
         "--lora-r", "4", "--lora-alpha", "8", "--lora-targets", "q,v,down", "--lr", "1e-2", "--warmup", "2",
         "--eval-every", "5", "--save-every", "3", "--val-split", "0.1", "--threads", "1"] + extra
    }

    @Test func trainsResumesAndExports() async throws {
        let out = dir + "/run"
        let a = Self.args(model: dir + "/tiny.gguf", data: dir + "/data.jsonl", out: out, ["--export", "peft,gguf-f32,gguf-lora"])
        #expect(await DistillCLI.main(a) == 0)
        for f in ["manifest.json", "checkpoint.ckpt", "best.ckpt", "train-log.jsonl", "loss.svg", "adapter/adapter_config.json",
                  "adapter/adapter_model.safetensors", "model-f32.gguf"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f) missing")
        }
        let log = try String(contentsOfFile: out + "/train-log.jsonl", encoding: .utf8).split(separator: "\n")
        let steps = log.filter { $0.contains("\"loss\"") }.count
        let ckpt = try TrainingCheckpoint.read(out + "/checkpoint.ckpt")
        // 38 trainable items (2 dropped), 4 held out → 34 → 9 micro-batches per epoch, 2 epochs.
        #expect(ckpt.header.step == 18 && steps == 18)
        #expect(log.contains { $0.contains("eval_loss") })
        let curve = try TrainLog.curve(out + "/train-log.jsonl")
        #expect(curve.train.last!.loss < curve.train.first!.loss, "the loss went down")
        let svg = try String(contentsOfFile: out + "/loss.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("<path"))

        // The same command again: already finished, nothing changes.
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.ckpt"))
        #expect(await DistillCLI.main(a) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.ckpt")) == before)

        // Another setting into the same folder: refused (exit 1), nothing overwritten.
        var other = a
        other[other.firstIndex(of: "1e-2")! ] = "3e-3"
        #expect(await DistillCLI.main(other) == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.ckpt")) == before)

        // The adapter: PEFT's names; the merged GGUF equals base + adapter; generate runs both.
        let adapter = try PEFTAdapter.read(out + "/adapter")
        #expect(adapter.config.targetModules == ["down_proj", "q_proj", "v_proj"] && adapter.config.r == 4)
        #expect(adapter.tensors.keys.contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"))
        let base = try LlamaParameters(gguf: try GGUFFile(path: dir + "/tiny.gguf"))
        try adapter.merge(into: base, baseName: "tiny", adapterName: "adapter")
        let merged = try LlamaParameters(gguf: try GGUFFile(path: out + "/model-f32.gguf"))
        for (kind, l) in merged.entries {
            let d = zip(merged.values(kind, layer: l), base.values(kind, layer: l)).map { abs($0 - $1) }.max() ?? 0
            #expect(d < 1e-5, "\(kind) layer \(l)")
        }
        try (#"{"instruction": "Say the number 3 twice"}"# + "\n").write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
        #expect(await DistillCLI.main(["generate", "--model", dir + "/tiny.gguf", "--adapter", out + "/adapter", "--data",
                                       dir + "/test.jsonl", "--out", dir + "/gen-adapter.jsonl", "--max-tokens", "8", "--exact"]) == 0)
        #expect(await DistillCLI.main(["generate", "--model", out + "/model-f32.gguf", "--data", dir + "/test.jsonl",
                                       "--out", dir + "/gen-merged.jsonl", "--max-tokens", "8", "--exact"]) == 0)
        let g1 = try String(contentsOfFile: dir + "/gen-adapter.jsonl", encoding: .utf8)
        let g2 = try String(contentsOfFile: dir + "/gen-merged.jsonl", encoding: .utf8)
        #expect(g1 == g2, "adapter at load and merged GGUF give the same greedy text")

        // The GGUF LoRA for llama.cpp: --export gguf-lora equals --convert-adapter on the PEFT folder, byte for byte.
        #expect(await DistillCLI.main(["train", "--convert-adapter", out + "/adapter/", "--model", dir + "/tiny.gguf",
                                       "--out", dir + "/converted.gguf"]) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/adapter.gguf")) == Data(contentsOf: URL(fileURLWithPath: dir + "/converted.gguf")))
        let lora = try GGUFFile(path: out + "/adapter.gguf")
        #expect(lora.string("general.type") == "adapter" && lora.string("adapter.type") == "lora" && lora.float("adapter.lora.alpha") == 8)
        #expect(lora.tensors.count == 2 * 3 * 2)  // q, v, down on 2 layers, A and B each
        #expect(await DistillCLI.main(["train", "--convert-adapter", out + "/adapter", "--data", "x.jsonl"]) == 64)

        // --export-from best on the finished run: the adapter holds best.ckpt's weights.
        #expect(await DistillCLI.main(a.filter { $0 != "peft,gguf-f32,gguf-lora" && $0 != "--export" } + ["--export", "peft", "--export-from", "best"]) == 0)
        let best = try TrainingCheckpoint.read(out + "/best.ckpt")
        let exported = try PEFTAdapter.read(out + "/adapter")
        var k = 0
        for t in best.header.tensors {
            let n = t.shape.reduce(1, *)
            #expect(exported.tensors[t.name]?.values == Array(best.parameters[k..<(k + n)]), "\(t.name)")
            k += n
        }
    }

    @Test func fullFineTuningAndRefusals() async throws {
        let out = dir + "/full"
        #expect(await DistillCLI.main(Self.args(model: dir + "/tiny.gguf", data: dir + "/data.jsonl", out: out,
                                                ["--full", "--export", "gguf-q8_0,hf", "--epochs", "1"])) == 0)
        #expect(FileManager.default.fileExists(atPath: out + "/model-q8_0.gguf"))
        #expect(FileManager.default.fileExists(atPath: out + "/hf/model.safetensors"))
        let ckpt = try TrainingCheckpoint.read(out + "/checkpoint.ckpt")
        #expect(ckpt.header.tensors.contains { $0.name == "model.embed_tokens.weight" })

        // Nothing to train on: refused before anything is written.
        try (#"{"instruction": "a", "output": ""}"# + "\n").write(toFile: dir + "/empty.jsonl", atomically: true, encoding: .utf8)
        #expect(await DistillCLI.main(Self.args(model: dir + "/tiny.gguf", data: dir + "/empty.jsonl", out: dir + "/none")) == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/none"))
        // Usage errors exit 64.
        #expect(await DistillCLI.main(["train", "--data", dir + "/data.jsonl", "--out", dir + "/x", "--lora", "--full"]) == 64)
        #expect(await DistillCLI.main(["train", "--data", dir + "/data.jsonl", "--out", dir + "/x", "--lora-targets", "qq"]) == 64)
        #expect(await DistillCLI.main(["train", "--data", dir + "/data.jsonl", "--out", dir + "/x", "--full", "--export", "peft"]) == 64)
    }

    @Test func pruneKeepsTheChosenLayers() async throws {
        let out = dir + "/pruned.gguf"
        #expect(await DistillCLI.main(["prune", "--model", dir + "/tiny.gguf", "--keep-layers", "1", "--out", out]) == 0)
        let full = try LlamaParameters(gguf: try GGUFFile(path: dir + "/tiny.gguf"))
        let pruned = try LlamaParameters(gguf: try GGUFFile(path: out))
        #expect(pruned.config.layers == 1 && full.config.layers == 2)
        #expect(pruned.values(.wq, layer: 0) == full.values(.wq, layer: 1))
        #expect(pruned.values(.wDown, layer: 0) == full.values(.wDown, layer: 1))
        #expect(pruned.values(.tokenEmbedding) == full.values(.tokenEmbedding))
        #expect(try Tokenizer(ggufAt: out).encode("the 好") == (try Tokenizer(ggufAt: dir + "/tiny.gguf")).encode("the 好"))
        #expect(LlamaParameters.everyKth(2, of: 30) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 29])
        #expect(try PruneCommand.parseLayers("0-2,5") == [0, 1, 2, 5])
        #expect(await DistillCLI.main(["prune", "--model", dir + "/tiny.gguf", "--keep-layers", "2", "--out", out]) == 64)
        #expect(await DistillCLI.main(["prune", "--model", dir + "/tiny.gguf", "--out", out]) == 64)
    }
}
