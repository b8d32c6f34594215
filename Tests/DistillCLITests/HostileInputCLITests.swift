import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// Hostile inputs through the real commands: a model whose rows do not fill quantisation blocks, and paths that
/// are not files.
struct HostileInputCLITests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"instruction": "你好", "input": "🐱"}"#.appending("\n").write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
    }

    @Test func generateInTheDefaultPrecisionRunsAHidden48ModelInExact() async throws {
        try FuzzSeeds.writeGGUF(FuzzSeeds.hidden48Config, to: dir + "/h48.gguf", type: .q8_0)
        let out = dir + "/gen.jsonl"
        let code = await DistillCLI.main(["generate", "--model", dir + "/h48.gguf", "--data", dir + "/test.jsonl", "--out", out,
                                          "--max-tokens", "4", "--threads", "1"])
        #expect(code == 0)
        let records = try JSONLines.decodeAll(GenerationRecord.self, from: out)
        #expect(records.count == 1 && records[0].instruction == "你好")
    }

    @Test func aDirectoryGivenAsTheDataFileIsAFailureNamingIt() async throws {
        try FuzzSeeds.writeGGUF(to: dir + "/small.gguf")
        let code = await DistillCLI.main(["generate", "--model", dir + "/small.gguf", "--data", dir, "--out", dir + "/o.jsonl"])
        #expect(code == 1)
        let e = try #require(throws: DataError.self) { _ = try DatasetReader(path: dir) }
        #expect(e.description == "\(dir): is a directory, not a file: give the path of a file (for example one inside it)")
    }
}
