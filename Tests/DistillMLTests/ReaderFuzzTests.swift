import DistillData
import DistillTestSupport
import Foundation
import Testing
@testable import DistillML

/// Bounded fuzzing of the model-file readers: valid small files mutated (bit flips, inserts, deletes, truncation,
/// splices, integer fields set to 0, −1, 2^31, 2^63−1, …) for `DISTILL_FUZZ_SECONDS` (default 1.5 s) each.
///
/// Asserted for every input: the process survives (a trap would end the suite); a refusal is a `DistillMLError` or
/// `TokenizerError` naming the file; and what was accepted is bounded by the file: GGUF tensors never claim more bytes
/// than the file has, fp32 weights are at most 13× a GGUF (Q2_K is the densest type read) and 2× a safetensors file,
/// a tokenizer has fewer ids than 2× its file's bytes + 1024, and the process's peak memory grows by under 2 GiB.
@Suite(.serialized) struct ReaderFuzzTests {
    let dir: String

    init() throws {
        dir = ModelFixtures.temporaryPath("fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    static let memoryBound = 2 << 30

    /// True when `error` is located in `path` (the file the reader was given, or one beside it).
    static func isLocated(_ error: any Error, in folder: String) -> Bool {
        switch error {
        case let e as DistillMLError: return e.file.hasPrefix(folder) && !e.message.isEmpty
        case let e as TokenizerError: return e.file.hasPrefix(folder) && !e.message.isEmpty
        case let e as DataError: return e.file.hasPrefix(folder) && !e.message.isEmpty
        default: return false
        }
    }

    /// Runs `body` on mutations of `seed` written to `path`; `body` returns whether the input was accepted.
    func fuzz(_ name: String, seed: [UInt8], focus: Range<Int>?, path: String, extraSeeds: [[UInt8]] = [],
              _ body: (String, Int) throws -> Void) throws {
        var mutator = FuzzMutator(seed: 0x5EED_0000 &+ UInt64(name.utf8.count))
        var run = FuzzRun(name)
        let rssBefore = FuzzRun.peakResidentBytes
        while run.next() {
            let bytes = mutator.mutate([seed] + extraSeeds, focus: focus)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                try body(path, bytes.count)
                run.record(accepted: true)
            } catch {
                #expect(Self.isLocated(error, in: dir), "\(name): unlocated error \(type(of: error)): \(error)")
                run.record(accepted: false)
            }
        }
        print(run.summary)
        #expect(run.inputs > 0)
        #expect(FuzzRun.peakResidentBytes - rssBefore < Self.memoryBound, "\(name): peak memory grew past 2 GiB")
    }

    /// Loads a model and, when it loads, decodes two tokens: the engine must run on whatever a reader accepted.
    static func exercise(_ lm: LanguageModel) throws {
        let prompt = lm.chatPrompt([(role: "user", content: "héllo 你好 🐱 12")])
        guard prompt.count + 3 < lm.model.config.contextLength else { return }
        try lm.generator(slots: 1, capacity: prompt.count + 3).generate([GenerationRequest(id: 0, prompt: prompt, maxTokens: 2)]) { _ in }
    }

    @Test func ggufFilesThatLieNeverCrash() throws {
        let seedPath = dir + "/seed.gguf"
        try FuzzSeeds.writeGGUF(to: seedPath)
        let q8Path = dir + "/seed-q8.gguf"
        try FuzzSeeds.writeGGUF(to: q8Path, type: .q8_0)
        let seed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seedPath)))
        let header = try GGUFFile(path: seedPath).dataOffset
        var n = 0
        try fuzz("gguf", seed: seed, focus: 0..<header, path: dir + "/fuzz.gguf",
                 extraSeeds: [try [UInt8](Data(contentsOf: URL(fileURLWithPath: q8Path)))]) { path, size in
            let file = try GGUFFile(path: path)
            #expect(file.tensors.reduce(0) { $0 + $1.byteCount } <= size)
            n += 1
            let lm = try LanguageModel(path: path, precision: n % 2 == 0 ? .exact : .fastest)
            #expect((lm.model.parameters?.count ?? 0) * 4 <= 13 * size)
            try Self.exercise(lm)
        }
    }

    @Test func safetensorsFilesThatLieNeverCrash() throws {
        let folder = dir + "/hf-st"
        try FuzzSeeds.writeHuggingFace(to: folder)
        let seed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors")))
        let headerLength = Int(seed[0]) | Int(seed[1]) << 8 | Int(seed[2]) << 16
        try fuzz("safetensors", seed: seed, focus: 0..<(8 + headerLength), path: folder + "/model.safetensors") { _, size in
            let f = try SafetensorsFile(path: folder + "/model.safetensors")
            #expect(f.tensors.values.reduce(0) { $0 + $1.byteCount } <= size)
            let p = try LlamaParameters(huggingFaceDirectory: folder)
            #expect(p.count * 4 <= 2 * size)
        }
    }

    @Test func configFilesThatLieNeverCrash() throws {
        let folder = dir + "/hf-config"
        try FuzzSeeds.writeHuggingFace(to: folder)
        let seed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/config.json")))
        let weights = try FileManager.default.attributesOfItem(atPath: folder + "/model.safetensors")[.size] as? Int ?? 0
        try fuzz("config.json", seed: seed, focus: nil, path: folder + "/config.json") { _, _ in
            let lm = try LanguageModel(path: folder, precision: .exact)
            #expect(try #require(lm.model.parameters).count * 4 <= 2 * weights)
            try Self.exercise(lm)
        }
    }

    @Test func tokenizerFilesThatLieNeverCrash() throws {
        let folder = dir + "/tok"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let seed = try [UInt8](FuzzSeeds.tokenizerJSON())
        try fuzz("tokenizer.json", seed: seed, focus: nil, path: folder + "/tokenizer.json") { path, size in
            let t = try Tokenizer(tokenizerJSONAt: path)
            #expect(t.vocabularySize <= 2 * size + 1024)
            let ids = t.encode("héllo 你好 🐱 <|im_end|> 12", addSpecial: true)
            _ = t.decode(ids + [0, t.vocabularySize - 1, t.vocabularySize + 5], skipSpecial: false)
        }
    }
}
