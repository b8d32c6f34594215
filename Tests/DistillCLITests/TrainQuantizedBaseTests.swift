import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing
@testable import DistillCLI

/// `distill train --base-precision q` (QLoRA) on a Q4_1 tiny model: the same run as on the base dequantised to fp32,
/// refused for full fine-tuning and for a base that is not in 4/8-bit blocks.
@Suite struct TrainQuantizedBaseTests {
    @Test func qloraFollowsTheFP32BaseRun() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-qlora-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TinyModel.writeGGUF(to: dir + "/q4.gguf", type: .q4_1)
        try TinyModel.writeGGUF(to: dir + "/f32.gguf")
        try TrainCommandTests.writeData(dir + "/data.jsonl", items: 24)
        func run(_ out: String, _ extra: [String], model: String = "/q4.gguf") async -> Int32 {
            await DistillCLI.main(TrainCommandTests.args(model: dir + model, data: dir + "/data.jsonl", out: dir + out,
                                                         ["--export", "peft", "--epochs", "1"] + extra))
        }
        #expect(await run("/q", ["--base-precision", "q"]) == 0)
        #expect(await run("/fp32", []) == 0)
        let q = try TrainLog.curve(dir + "/q/train-log.jsonl"), f = try TrainLog.curve(dir + "/fp32/train-log.jsonl")
        #expect(q.train.count == f.train.count && !q.train.isEmpty)
        for (a, b) in zip(q.train + q.eval, f.train + f.eval) {
            #expect(abs(a.loss - b.loss) <= 1e-4 * max(1, abs(b.loss)), "step \(a.step): \(a.loss) vs \(b.loss)")
        }
        #expect(await run("/full", ["--base-precision", "q", "--full"]) == 64)
        #expect(await run("/f32", ["--base-precision", "q"], model: "/f32.gguf") == 1)
    }
}
