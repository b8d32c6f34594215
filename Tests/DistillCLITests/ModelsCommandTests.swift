import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

@Suite struct ModelsCommandTests {
    /// On a CPU without what the engine was compiled for, model commands stop with the missing flags and the way out
    /// instead of dying on an illegal instruction.
    @Test func engineCPUCheckNamesTheMissingFlags() throws {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse sse2 avx popcnt\n\nprocessor\t: 1\n"
        let old = try #require(CPUFlags.parse(cpuinfo: cpuinfo))
        #expect(old == ["fpu", "sse", "sse2", "avx", "popcnt"])
        #expect(CPUFlags.parse(cpuinfo: "processor\t: 0\n") == nil)
        try EngineCPU.check(flags: [])  // flags unknown: go on
        if EngineCPU.needed.isEmpty {
            try EngineCPU.check(flags: old)  // a baseline build needs nothing
        } else {
            #expect(throws: EngineCPU.Unsupported(missing: EngineCPU.needed.filter { !["avx", "popcnt"].contains($0) })) {
                try EngineCPU.check(flags: old)
            }
            try EngineCPU.check()  // the machine running the tests has them, or the engine tests could not run
        }
        #expect(EngineCPU.Unsupported(missing: ["avx2"]).description.contains("DISTILL_PORTABLE=1"))
    }

    @Test func modelArgumentsAcceptAPathOrAKnownName() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("models-\(UUID().uuidString).gguf").path
        try TinyModel.writeGGUF(to: path)
        #expect(try ModelStore.resolve(path) == path)
        do {
            _ = try ModelStore.resolve("no-such-model")
            Issue.record("an unknown name resolved")
        } catch {
            #expect("\(error)".contains("smollm2-135m"))
        }
        // The default name resolves to the cache, or says how to fill it.
        do {
            let p = try ModelStore.resolve("smollm2-135m")
            #expect(p.hasSuffix("SmolLM2-135M-Instruct.Q4_1.gguf"))
        } catch {
            #expect("\(error)".contains("distill models pull"))
        }
    }

    @Test func pullRejectsUnknownNamesAndListRunsWithoutAModel() async {
        #expect(await DistillCLI.main(["models", "pull", "gpt-5"]) == 64)
        #expect(await DistillCLI.main(["models", "list", "extra"]) == 64)
        #expect(await DistillCLI.main(["models", "list"]) == 0)
        #expect(await DistillCLI.main(["models"]) == 64)
    }

    @Test func benchGenerateParsesItsOptions() throws {
        guard case .command(let c, _) = try DistillCLI.resolve(["bench", "generate", "--batches", "1,16", "--tokens", "8"]),
              let bench = c as? BenchGenerateCommand else {
            Issue.record("bench generate did not resolve")
            return
        }
        #expect(bench.batches == [1, 16] && bench.tokens == 8 && bench.torchPython == nil)
        #expect(throws: UsageError.self) { try DistillCLI.resolve(["bench", "generate", "--batches", "1,x"]) }
        #expect(BenchGenerateCommand.number(after: "tok/s=", in: "load s 1\ngen B=16 tokens=2048 tok/s=90.5\n", line: "gen B=") == 90.5)
        #expect(BenchGenerateCommand.number(after: "tok/s", in: "llama.cpp decode (incl. prompt): 128 tokens in 1.74s = 73.5 tok/s", line: "decode") == 73.5)
    }
}
