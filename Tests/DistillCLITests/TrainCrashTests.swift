import DistillData
import DistillML
import DistillTestSupport
import Foundation
import Testing

/// The resume guarantee of `distill train`, on the real binary: a run SIGKILLed mid-training (between checkpoints)
/// and resumed ends with bitwise the same checkpoint — weights, AdamW moments, step, best eval, dropout stream — as a
/// run that was never stopped; SIGTERM stops after the current step with a checkpoint and exit 1.
@Suite(.serialized) struct TrainCrashTests {
    static func launch(_ binary: String, _ args: [String], log: String) throws -> Process {
        try HarvestCrashTests.launch(binary, args, log: log)
    }

    static func stepsLogged(_ out: String) -> Int {
        guard let text = try? String(contentsOfFile: out + "/train-log.jsonl", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"loss\"") }.count
    }

    @Test(.timeLimit(.minutes(3))) func sigkillThenResumeGivesBitwiseTheSameWeights() async throws {
        guard let binary = HarvestCrashTests.binary else {
            Issue.record("the distill binary was not found next to the tests (build with `swift build --build-tests`)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("distill-train-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TinyModel.writeGGUF(to: dir + "/tiny.gguf")
        try TrainCommandTests.writeData(dir + "/data.jsonl", items: 150)
        // LoRA with dropout, so the dropout stream must be restored too; checkpoints every 7 steps.
        func args(_ out: String) -> [String] {
            TrainCommandTests.args(model: dir + "/tiny.gguf", data: dir + "/data.jsonl", out: out,
                                   ["--epochs", "3", "--batch", "2", "--save-every", "7", "--lora-dropout", "0.1", "--export", "peft"])
        }
        let reference = try Self.launch(binary, args(dir + "/straight"), log: dir + "/straight.log")
        await HarvestCrashTests.waitForExit(reference)
        #expect(reference.terminationStatus == 0)
        let total = Self.stepsLogged(dir + "/straight")
        #expect(total > 150)

        let out = dir + "/killed"
        for (n, mark) in [total / 5, total / 2].enumerated() {
            let p = try Self.launch(binary, args(out), log: dir + "/killed-\(n).log")
            while Self.stepsLogged(out) < mark, p.isRunning { try await Task.sleep(for: .milliseconds(2)) }
            #expect(p.isRunning, "run \(n) ended before it could be killed")
            kill(p.processIdentifier, SIGKILL)
            await HarvestCrashTests.waitForExit(p)
            #expect(p.terminationReason == .uncaughtSignal)
            let at = try TrainingCheckpoint.read(out + "/checkpoint.ckpt").header.step
            #expect(at > 0 && at < total)
        }
        let resume = try Self.launch(binary, args(out), log: dir + "/resume.log")
        await HarvestCrashTests.waitForExit(resume)
        #expect(resume.terminationStatus == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/straight/checkpoint.ckpt"))
        let b = try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.ckpt"))
        #expect(a == b, "the resumed run's checkpoint differs from the uninterrupted run's")
        let ca = try TrainingCheckpoint.read(dir + "/straight/checkpoint.ckpt")
        #expect(ca.header.step == total && ca.header.randomStream.map { $0 > 0 } == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/straight/adapter/adapter_model.safetensors"))
            == Data(contentsOf: URL(fileURLWithPath: out + "/adapter/adapter_model.safetensors")))
        // The log was cut back to the checkpoint on resume: one line per step.
        #expect(Self.stepsLogged(out) == total)

        // SIGTERM: stops after the step in progress, saves, exits 1 saying how to resume; resuming ends the same.
        let termOut = dir + "/term"
        let p = try Self.launch(binary, args(termOut), log: dir + "/term.log")
        while Self.stepsLogged(termOut) < total / 3, p.isRunning { try await Task.sleep(for: .milliseconds(2)) }
        kill(p.processIdentifier, SIGTERM)
        await HarvestCrashTests.waitForExit(p)
        #expect(p.terminationReason == .exit && p.terminationStatus == 1)
        let stderr = try String(contentsOfFile: dir + "/term.log", encoding: .utf8)
        #expect(stderr.contains("interrupted at step") && stderr.contains("run the same command to resume"))
        #expect(try TrainingCheckpoint.read(termOut + "/checkpoint.ckpt").header.step == Self.stepsLogged(termOut))
        let finish = try Self.launch(binary, args(termOut), log: dir + "/term-resume.log")
        await HarvestCrashTests.waitForExit(finish)
        #expect(finish.terminationStatus == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: termOut + "/checkpoint.ckpt")) == a)
    }
}
