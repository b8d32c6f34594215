import DistillData
import DistillML
import Foundation

/// `distill data …`: look at, split, convert, check and generate datasets.
struct DataCommand: CommandGroup {
    static let spec = CommandSpec(
        name: "data",
        abstract: "inspect, split, convert, check and generate datasets",
        discussion: """
        Datasets are JSONL (one JSON object per line) or a JSON array of objects, detected from the first byte.
        Both are streamed, so files larger than memory work. Every problem is reported as file:line: field 'x': ….
        """,
        subcommands: [DataStatsCommand.self, DataSplitCommand.self, DataConvertCommand.self, DataCheckCommand.self,
                      DataSynthCommand.self, DataExportCommand.self],
        examples: """
              distill data stats datasets/instructions.jsonl
              distill data split my.jsonl --seed 0
              distill data check datasets/instructions.jsonl datasets/reasoning.jsonl
            """)

    /// The one dataset file a subcommand works on (`-` is stdin).
    static func inputFile(_ args: ParsedArguments) throws(UsageError) -> String {
        let files = try args.positionals(max: 1)
        guard let file = files.first else { throw UsageError("needs a dataset file (JSONL or JSON array), or - for stdin") }
        return file
    }

    /// A path the readers can open more than once: `-` (stdin) and pipes (`/dev/stdin`, `<(…)`), which can be read
    /// only once, are first copied, streaming, to a private temporary file (removed at exit); regular files are
    /// returned as they are.
    static func readable(_ path: String) throws -> String {
        var st = stat()
        if path != "-" {
            guard stat(path, &st) == 0 else { return path }  // the reader reports the missing file
            if (st.st_mode & S_IFMT) == S_IFREG { return path }
        }
        let source = path == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: path)
        guard let source else { throw DataError(file: path, "cannot open for reading") }
        let dir = NSTemporaryDirectory() + "distill-input-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let spool = dir + "/" + (path == "-" ? "stdin" : (path as NSString).lastPathComponent)
        TemporaryFiles.register(dir)
        TemporaryFiles.register(spool)
        let fd = open(spool, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DataError(file: spool, "cannot create: \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        atexit { TemporaryFiles.removeAll() }
        while let chunk = try source.read(upToCount: 1 << 20), !chunk.isEmpty { try handle.write(contentsOf: chunk) }
        try handle.close()
        return spool
    }

    /// Writes `text` to stdout without buffering surprises when stdout is a pipe.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// `distill data stats FILE`.
struct DataStatsCommand: DistillCommand {
    static let json: Option<Bool> = .flag("json", help: "print the statistics as JSON")
    static let tokenizer: Option<String?> = .value("tokenizer", "FILE", help: "also count tokens with this GGUF model's tokenizer or tokenizer.json")

    static let spec = CommandSpec(
        name: "stats",
        abstract: "counts, field lengths (min/mean/p50/p95/max), empties, duplicates",
        usage: "FILE [--json] [--tokenizer MODEL.gguf|tokenizer.json]",
        discussion: """
        Lengths are in characters (Unicode scalars). Chat turns are grouped by speaker, e.g.
        messages[assistant].content. Duplicates are items identical to an earlier one (key order ignored).
        With --tokenizer, lengths are also given in tokens: of a GGUF model's tokenizer, or a Hugging Face
        tokenizer.json.
        """,
        options: [json, tokenizer],
        examples: """
              distill data stats datasets/instructions.jsonl
              distill data stats datasets/reasoning.jsonl --json --tokenizer smollm2.gguf   # lengths in tokens too
            """)

    let file: String
    let json: Bool
    let tokenizerPath: String?

    init(_ args: ParsedArguments) throws {
        file = try DataCommand.inputFile(args)
        json = args[Self.json]
        tokenizerPath = args[Self.tokenizer]
    }

    func run() async throws {
        var count: ((String) -> Int)? = nil
        if let tokenizerPath {
            let tokenizer = tokenizerPath.lowercased().hasSuffix(".gguf")
                ? try Tokenizer(ggufAt: tokenizerPath) : try Tokenizer(tokenizerJSONAt: tokenizerPath)
            count = { tokenizer.encode($0).count }
        }
        let stats = try DatasetStats(path: try DataCommand.readable(file), tokenizer: tokenizerPath, countTokens: count, progress: ProgressReporter())
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            DataCommand.out(String(decoding: try e.encode(stats), as: UTF8.self) + "\n")
        } else {
            DataCommand.out(stats.table)
        }
    }
}

/// `distill data split FILE`.
struct DataSplitCommand: DistillCommand {
    /// An integer, or the default's description: read as text and parsed in `init`.
    static let testSize: Option<String> = .value("test-size", "N", default: "min(2048, 10%)", help: "items in the test set (default: 2048, or 10% of a smaller file)")
    static let seed: Option<String> = .value("seed", "S", default: "0", help: "any text; a different seed gives a different split")
    static let trainOut: Option<String?> = .value("train-out", "FILE", help: "train file (default: FILE with .train.jsonl in place of its extension)")
    static let testOut: Option<String?> = .value("test-out", "FILE", help: "test file (default: FILE with .test.jsonl in place of its extension)")

    static let spec = CommandSpec(
        name: "split",
        abstract: "split into train/test by a stable hash of each item",
        usage: "FILE [--test-size N] [--seed S] [--train-out FILE] [--test-out FILE]",
        discussion: """
        Each item's key is SHA-256 of the seed and the item's canonical JSON (keys sorted); the --test-size items
        with the smallest keys form the test set. The split is the same on every machine and for any file order or
        layout, and exact duplicates always land on the same side. Output layout follows the file name:
        .json → JSON array, anything else → JSONL.
        """,
        options: [testSize, seed, trainOut, testOut],
        examples: """
              distill data split my.jsonl --seed 0          # my.train.jsonl and my.test.jsonl
              distill data split datasets/instructions.jsonl --test-size 10 --train-out train.jsonl --test-out test.jsonl
            """)

    let file: String
    let splitter: DatasetSplitter
    let trainOut: String
    let testOut: String

    init(_ args: ParsedArguments) throws {
        file = try DataCommand.inputFile(args)
        var size: Int? = nil
        let text = args[Self.testSize]
        if text != Self.testSize.spec.defaultValue {
            guard let n = Int(optionText: text) else { throw UsageError("option '--test-size' wants an integer, got '\(text)'") }
            size = n
        }
        if let size, size < 1 { throw UsageError("--test-size must be at least 1") }
        splitter = DatasetSplitter(testSize: size, seed: args[Self.seed])
        let stem = URL(fileURLWithPath: file).deletingPathExtension().path
        if file == "-", args[Self.trainOut] == nil || args[Self.testOut] == nil {
            throw UsageError("reading stdin (-): give --train-out and --test-out")
        }
        trainOut = args[Self.trainOut] ?? stem + ".train.jsonl"
        testOut = args[Self.testOut] ?? stem + ".test.jsonl"
        guard trainOut != testOut, trainOut != file, testOut != file else {
            throw UsageError("--train-out, --test-out and the input must be three different files")
        }
    }

    func run() async throws {
        let signals = StopSignals()
        signals.install(onStop: nil)
        defer { signals.remove() }
        var splitter = splitter
        splitter.progress = ProgressReporter()
        let (train, test) = try splitter.split(input: try DataCommand.readable(file), trainOut: trainOut, testOut: testOut)
        DataCommand.out("\(train) train items → \(trainOut)\n\(test) test items → \(testOut)\n")
    }
}
