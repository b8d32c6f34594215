import DistillData
import DistillML
import Foundation

/// `distill train`: fine-tune a local student (LoRA or full) with cross-entropy on the assistant's tokens.
struct TrainCommand: DistillCommand {
    static let model: Option<String> = .value("model", "M", default: ModelStore.defaultName, help: "base model: GGUF file, HF folder or known name")
    static let data: Option<[String]> = .list("data", "FILE", help: "training files (JSONL or JSON array; several allowed)")
    static let out: Option<String?> = .value("out", "DIR", help: "output folder (resumed when it holds this run)")
    static let new: Option<Bool> = .flag("new", help: "DIR holds another run: move it aside and start over")
    static let lora: Option<Bool> = .flag("lora", help: "train a LoRA adapter (the default)")
    static let full: Option<Bool> = .flag("full", help: "fine-tune every weight instead")
    static let loraR: Option<Int> = .value("lora-r", "R", default: 16, help: "LoRA rank")
    static let loraAlpha: Option<Double> = .value("lora-alpha", "A", default: 32, help: "LoRA alpha (scale alpha/r)")
    static let loraDropout: Option<Double> = .value("lora-dropout", "P", default: 0.05, help: "dropout on the LoRA input")
    static let loraTargets: Option<[String]> = .list("lora-targets", "NAME", help: "projections: q k v o gate up down, or all (default: all)")
    static let lr: Option<Double?> = .value("lr", "X", help: "peak learning rate (default: 2e-4 with LoRA, 2e-5 full)")
    static let epochs: Option<Int> = .value("epochs", "N", default: 3, help: "passes over the training set")
    static let batch: Option<Int> = .value("batch", "N", default: 4, help: "items per micro-batch (rows of --max-seq with --pack)")
    static let gradAccum: Option<Int> = .value("grad-accum", "N", default: 1, help: "micro-batches per optimiser step")
    static let maxSeq: Option<Int> = .value("max-seq", "N", default: 512, help: "longest item in tokens; longer ones are truncated (or dropped)")
    static let dropLong: Option<Bool> = .flag("drop-long", help: "drop items longer than --max-seq instead of truncating them")
    static let pack: Option<Bool> = .flag("pack", help: "pack items into rows of --max-seq (no attention across items)")
    static let warmup: Option<Int> = .value("warmup", "N", default: 0, help: "warmup steps (linear from 0)")
    static let schedule: Option<LearningRateSchedule.Kind> = .value("schedule", "S", default: .cosine, help: "after warmup: cosine, linear or constant")
    static let weightDecay: Option<Double> = .value("weight-decay", "W", default: 0, help: "AdamW decoupled weight decay (matrices only)")
    static let clip: Option<Double> = .value("clip", "N", default: 1, help: "clip gradients to this global norm (0 = off)")
    static let valSplit: Option<Double> = .value("val-split", "F", default: 0.05, help: "fraction of items held out for eval loss")
    static let evalEvery: Option<Int> = .value("eval-every", "N", default: 50, help: "eval loss every N steps (and at the end)")
    static let saveEvery: Option<Int> = .value("save-every", "N", default: 100, help: "checkpoint every N steps")
    static let seed: Option<Int> = .value("seed", "N", default: 0, help: "shuffle, split, LoRA init and dropout seed")
    static let export: Option<[String]> = .list("export", "FMT", help: "peft, gguf-lora, gguf-f32, gguf-f16, gguf-q8_0, gguf-q4_0, gguf-q4_1, hf (default: peft gguf-q8_0 with LoRA, gguf-q8_0 full)")
    static let convertAdapter: Option<String?> = .value("convert-adapter", "DIR", help: "write the PEFT adapter in DIR as a llama.cpp GGUF LoRA (no training)")
    static let recomputeAttention: Option<Bool> = .flag("recompute-attention", help: "keep one layer's attention softmax and recompute it in backward (less memory, same bits)")
    static let recompute: Option<RecomputeMode?> = .value("recompute", "WHAT", help: "layers: keep each layer's input only and run the layer again in backward (less memory, same bits; default with --base-precision q), or none")
    static let basePrecision: Option<String> = .value("base-precision", "P", default: "fp32", help: "LoRA: q keeps the frozen projections in the GGUF's Q4_0/Q4_1/Q8_0 blocks (QLoRA; less memory), fp32 dequantises them")
    static let exportFrom: Option<String> = .value("export-from", "W", default: "last", help: "export the last weights or the best (lowest eval loss)")

    static let spec = CommandSpec(
        name: "train",
        abstract: "fine-tune a student (LoRA or full) on harvested data",
        usage: "--data FILE… --out DIR [--model M] [options]  |  --convert-adapter DIR [--model M] [--out FILE.gguf]",
        discussion: """
            Reads harvest outputs (answer, cot, cot-student, sft, self-instruct, generate-data, icl) and Alpaca, ShareGPT
            and OpenAI-chat files as they are. Each item goes through the model's chat template; the loss is on the
            assistant's tokens only. Replies cut off by the teacher (finish_reason "length"), empty replies and wrong
            CoT paths are dropped and counted; a file with nothing to train on is refused before any work.

            DIR gets manifest.json (what the run is made of), checkpoint.ckpt (every --save-every steps, on Ctrl-C and
            at the end; written atomically), best.ckpt (the weights with the lowest eval loss), train-log.jsonl,
            loss.svg and the exports. Run the same command again to resume: a run killed at any point ends with the
            same weights, bit for bit, as one that was never stopped. A DIR holding another run is refused, naming what
            differs.

            --export gguf-lora writes adapter.gguf, the LoRA in llama.cpp's format (`llama-cli -m BASE.gguf --lora
            adapter.gguf`). --convert-adapter DIR turns an existing PEFT adapter folder (--export peft, or PEFT's
            save_pretrained) into the same file without training: DIR.gguf, or --out FILE.gguf; --model is its base.
            """,
        options: [
            model,
            data,
            out,
            new,
            lora,
            full,
            loraR,
            loraAlpha,
            loraDropout,
            loraTargets,
            lr,
            epochs,
            batch,
            gradAccum,
            maxSeq,
            dropLong,
            pack,
            warmup,
            schedule,
            weightDecay,
            clip,
            valSplit,
            evalEvery,
            saveEvery,
            seed,
            export,
            convertAdapter,
            recomputeAttention,
            recompute,
            basePrecision,
            exportFrom,
            ModelOptions.threads,
        ] + TrainObjective.options,
        examples: """
              # seed 003's LoRA recipe
              distill train --model smollm2-135m --data runs/gd/generate-data.jsonl --out runs/student \\
                  --lora-r 16 --lora-alpha 32 --lora-targets q,v --lora-dropout 0.05 --lr 2e-4 --epochs 3 --batch 4
              # full fine-tuning on answers and chain-of-thought rows, packed, exported as an F16 GGUF
              distill train --full --data runs/seqkd/answer.jsonl runs/cot/cot-student.jsonl --pack --max-seq 1024 \\
                  --lr 2e-5 --warmup 20 --export gguf-f16 --out runs/full
              # the adapter for llama.cpp: at the end of a run, or from an existing PEFT folder
              distill train --data train.jsonl --export peft,gguf-lora --out runs/student
              distill train --convert-adapter runs/student/adapter --model smollm2-135m   # → runs/student/adapter.gguf
              # run the adapter
              distill generate --model smollm2-135m --adapter runs/student/adapter --data test.jsonl --out gen.jsonl
              # distilling step-by-step on harvested chain-of-thought: answer and rationale tasks, α = 0.5
              distill train --data runs/cot/cot.jsonl --loss multitask --alpha 0.5 --out runs/mt
              # multitask + counterfactual (arXiv 2504.16056): L = α·L_MT + (1−α)·(γ·L_factual + (1−γ)·L_cf)
              distill train --data runs/cot/cot.jsonl runs/cf/counterfactual.jsonl --loss counterfactual --out runs/cf-student
              # dense KD from a local teacher: α·CE + (1−α)·T²·JSD(β)
              distill train --data runs/seqkd/answer.jsonl --loss js --beta 0.5 --teacher-model teacher.gguf --out runs/js
              # top-k KD from the API's logprobs (harvest answer --top-logprobs 20), tail bucket
              distill train --data runs/topk/answer.jsonl --loss topk --temperature 1 --out runs/topk-student
            """)

    enum Work {
        case train(TrainOptions)
        /// `--convert-adapter`: PEFT folder, base model, output file.
        case convert(adapter: String, model: String, out: String)
    }

    var work: Work

    init(_ args: ParsedArguments) throws {
        if let dir = args[Self.convertAdapter] {
            guard args[Self.data].isEmpty else { throw UsageError("--convert-adapter converts an adapter; it takes no --data") }
            let trimmed = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
            let out = args[Self.out] ?? trimmed + ".gguf"
            guard out.hasSuffix(".gguf") else { throw UsageError("--out: with --convert-adapter, a .gguf file to write (got '\(out)')") }
            work = .convert(adapter: trimmed, model: args[Self.model], out: out)
        } else {
            work = .train(try TrainOptions(args))
        }
    }

    func run() async throws {
        switch work {
        case .train(let options): try await TrainRun(options).run()
        case let .convert(adapter, model, out): try TrainEngine.convertAdapter(adapter, model: model, to: out)
        }
    }
}
