import DistillML
import Foundation

struct BenchGenerateCommand: DistillCommand {
    static let batches: Option<String> = .value("batches", "LIST", default: "1,16,64", help: "comma-separated batch sizes")
    static let tokens: Option<Int> = .value("tokens", "N", default: 128, help: "new tokens per sequence")
    static let exact: Option<Bool> = .flag("exact", help: "also time the exact fp32 path at every batch")
    static let noSharedPrefixes: Option<Bool> = .flag("no-shared-prefixes", help: "prefill every copy of the prompt (the anchors do); by default copies share one prefill")
    static let vs: Option<String?> = .value("vs", "PYTHON", help: "python with torch+transformers (torch_bench.py) and, unless --vs-llama, llama-cpp-python")
    static let vsLlama: Option<String?> = .value("vs-llama", "PYTHON", help: "python with llama-cpp-python for llamacpp_gen_bench.py")
    static let anchors: Option<String> = .value("anchors", "DIR", default: "../shared/anchors", help: "folder holding llamacpp_gen_bench.py and torch_bench.py")

    static let spec = CommandSpec(
        name: "generate",
        abstract: "decode tokens/s at batch 1, 16, 64 vs llama.cpp and PyTorch",
        usage: "[--model M] [--batches 1,16,64] [--vs PYTHON] [options]",
        discussion: """
            Each figure: BATCH copies of one chat prompt, greedy, --tokens new tokens each (end tokens ignored), wall
            time including prefill: the anchors' own workload. With --vs, the anchors run in this same invocation:
            llamacpp_gen_bench.py (llama.cpp, batch 1) and torch_bench.py gen (transformers, batch 1 and 16).
            """,
        options: [
            ModelOptions.model,
            batches,
            tokens,
            ModelOptions.threads,
            ModelOptions.precision,
            exact,
            noSharedPrefixes,
            vs,
            vsLlama,
            anchors,
        ],
        examples: """
              distill bench generate
              distill bench generate --batches 1,16 --tokens 64 --precision exact
              distill bench generate --vs /path/to/venv/bin/python   # tokens/s vs llama.cpp and PyTorch, same run
            """)

    var model: String
    var batches: [Int]
    var tokens: Int
    var threads: Int
    var exact: Bool
    var precision: LanguageModel.Precision
    var sharesPrefixes: Bool
    var torchPython: String?
    var llamaPython: String?
    var anchors: String

    init(_ args: ParsedArguments) throws {
        model = args[ModelOptions.model]
        batches = try args[Self.batches].split(separator: ",").map { s in
            guard let b = Int(s.trimmingCharacters(in: .whitespaces)), b > 0, b <= 512 else {
                throw UsageError("--batches: '\(s)' is not a batch size from 1 to 512")
            }
            return b
        }
        tokens = args[Self.tokens]
        threads = args[ModelOptions.threads]
        guard tokens > 0, threads > 0 else { throw UsageError("--tokens and --threads must be positive") }
        exact = args[Self.exact]
        precision = args[ModelOptions.precision]
        sharesPrefixes = !args[Self.noSharedPrefixes]
        torchPython = args[Self.vs]
        llamaPython = args[Self.vsLlama] ?? torchPython
        anchors = args[Self.anchors]
    }

    func run() async throws {
        try EngineCPU.check()
        Parallel.configureBLAS(threads: threads)
        let path = try ModelStore.resolve(model)
        let lm = try LanguageModel(path: path, precision: precision)
        if let note = lm.precisionNote { DistillCLI.printError(note) }
        let bytes = lm.model.quantized?.bytes ?? 0
        Self.say("distill bench generate: \(path)")
        func passes(_ rows: Int) -> String { rows == .max ? "every pass" : "passes of up to \(rows) rows" }
        Self.say("  \(lm.model.config.layers) layers, dim \(lm.model.config.dim), \(threads) threads; quantised weights \(bytes / 1_000_000) MB"
              + " (layers: \(passes(lm.model.quantizedMaxRows)), head: \(passes(lm.model.quantizedHeadMaxRows))),"
              + " fp32 \((lm.model.parameters?.count ?? 0) * 4 / 1_000_000) MB")
        let kernels = lm.precision == .int8 ? " (\(QuantizedLinears.int8KernelName) kernels)" : ""
        Self.say("  precision \(lm.precision.rawValue)\(kernels); copies of the prompt \(sharesPrefixes ? "share one prefill (prefix sharing)" : "are each prefilled")")
        Self.say("  workload: batch × '\(GenerationBenchmark.prompt)' → \(tokens) greedy tokens each, incl. prefill\n")
        var rows: [(String, Int, Double)] = []
        var text = ""
        // The fp32 comparison runs the same model with its 4/8-bit matrices set aside, or, when it was loaded
        // without fp32 copies, a second load in precision exact.
        var fp32Model: LanguageModel?
        for b in batches {
            let f = try GenerationBenchmark.run(lm, batch: b, newTokens: tokens, sharesPrefixes: sharesPrefixes)
            rows.append(("distill", b, f.tokensPerSecond))
            if b == 1 { text = f.sampleText }
            Self.say(String(format: "  distill       batch %3d: %5d tokens in %6.2fs = %7.1f tok/s  (%.1f CPU-s, load %.1f; prompt tokens %d computed, %d shared)",
                            b, f.tokens, f.seconds, f.tokensPerSecond, f.cpuSeconds, Self.loadAverage(), f.promptTokensComputed, f.promptTokensShared))
            if exact && b <= max(lm.model.quantizedMaxRows, lm.model.quantizedHeadMaxRows) {
                if fp32Model == nil { fp32Model = lm.model.parameters == nil ? try LanguageModel(path: path, precision: .exact) : lm }
                guard let fp32 = fp32Model else { continue }
                let saved = fp32.model.quantized
                fp32.model.quantized = nil
                defer { fp32.model.quantized = saved }
                let e = try GenerationBenchmark.run(fp32, batch: b, newTokens: tokens, sharesPrefixes: sharesPrefixes)
                rows.append(("distill fp32", b, e.tokensPerSecond))
                Self.say(String(format: "  distill fp32  batch %3d: %5d tokens in %6.2fs = %7.1f tok/s  (%.1f CPU-s, load %.1f)", b, e.tokens,
                                e.seconds, e.tokensPerSecond, e.cpuSeconds, Self.loadAverage()))
            }
        }
        if batches.contains(1) { Self.say("  distill text (batch 1): \(String(text.prefix(160)).debugDescription)") }
        if let py = llamaPython {
            let out = try await Self.anchor(py, anchors + "/llamacpp_gen_bench.py", [path, "\(threads)"])
            Self.say(String(format: "\n  llama.cpp (llamacpp_gen_bench.py), load %.1f:", Self.loadAverage()) + "\n" + out.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            if let v = Self.number(after: "tok/s", in: out, line: "decode"), let mine = rows.first(where: { $0.0 == "distill" && $0.1 == 1 })?.2 {
                Self.say(String(format: "  batch 1: distill / llama.cpp = %.2f×", mine / v))
            }
        }
        if let py = torchPython {
            for b in [1, 16] {
                let out = try await Self.anchor(py, anchors + "/torch_bench.py", ["gen", "\(b)", "0", path])
                Self.say(String(format: "\n  PyTorch (torch_bench.py gen %d), load %.1f:", b, Self.loadAverage()) + "\n" + out.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
                if let v = Self.number(after: "tok/s=", in: out, line: "gen B="), let mine = rows.first(where: { $0.0 == "distill" && $0.1 == b })?.2 {
                    Self.say(String(format: "  batch %d: distill / PyTorch = %.2f×", b, mine / v))
                }
            }
        }
    }

    /// The 1-minute load average: figures taken on a busy machine say so.
    static func loadAverage() -> Double {
        var l = [Double](repeating: 0, count: 3)
        return getloadavg(&l, 3) > 0 ? l[0] : .nan
    }

    /// Writes a line to stdout at once (print is block-buffered when piped; figures should appear as measured).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Runs an anchor script and returns its stdout (stderr dropped: transformers' progress bars).
    static func anchor(_ python: String, _ script: String, _ args: [String]) async throws -> String {
        guard FileManager.default.fileExists(atPath: script) else {
            throw UsageError("anchor script \(script) not found; pass --anchors DIR")
        }
        let (status, text) = try await BenchProcess.run(python, [script] + args, stderr: false)
        guard status == 0 else {
            throw AnchorFailed(description: "\(python) \(script) exited \(status): \(text.suffix(400))")
        }
        return text
    }

    struct AnchorFailed: Error, CustomStringConvertible { var description: String }

    /// The number just before or after `marker` on the first line containing `line` (anchor output formats).
    static func number(after marker: String, in text: String, line: String) -> Double? {
        guard let l = text.split(separator: "\n").first(where: { $0.contains(line) }), let r = l.range(of: marker) else { return nil }
        let after = l[r.upperBound...].trimmingCharacters(in: .whitespaces)
        if let v = Double(after.prefix { $0.isNumber || $0 == "." }) { return v }
        let before = l[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
        return Double(String(before.reversed().prefix { $0.isNumber || $0 == "." }.reversed()))
    }
}
