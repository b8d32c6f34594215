import DistillData
import DistillClient
import Foundation

/// The fingerprint of a judge folder (`manifest.json`): which judge, at which endpoint, with which rubric, prompt and
/// parameters produced its verdicts. Re-running into the same `--out` with any of them changed is refused, naming
/// what changed, so one folder never mixes two judges' verdicts under one header. The inputs are not in it: verdicts
/// are cached per item by content, so adding a model or changing an output judges just that afresh.
public struct JudgeRunManifest: RunManifest, Equatable {
    public static let stage = "judge"
    public var fingerprint = ""
    public var createdAt = ""
    /// `judge` or a rule (`rule:exact`, `rule:numeric`, `rule:choice`).
    public var mode: String
    /// The base URL with any password masked (`https://user:***@host/v1`); empty for rules.
    public var endpoint: String
    public var judgeModel: String
    public var rubric: String
    /// SHA-256 of the rubric file (criteria, scale and instructions).
    public var rubricVersion: String
    /// SHA-256 of the prompt the judge is sent for a fixed sample item: catches a change in how prompts are built.
    public var promptSHA256: String
    /// temperature, max_tokens, resamples, repair_turn.
    public var parameters: [String: String]

    enum CodingKeys: String, CodingKey {
        case fingerprint, mode, endpoint, rubric, parameters
        case createdAt = "created_at"
        case judgeModel = "judge_model"
        case rubricVersion = "rubric_version"
        case promptSHA256 = "prompt_sha256"
    }

    public init(mode: String, endpoint: String, judgeModel: String, rubric: String, rubricVersion: String, promptSHA256: String,
                parameters: [String: String]) {
        self.mode = mode
        self.endpoint = Redaction.maskingURLPasswords(endpoint)
        self.judgeModel = judgeModel
        self.rubric = rubric
        self.rubricVersion = rubricVersion
        self.promptSHA256 = promptSHA256
        self.parameters = parameters
    }

    /// An LLM judge's manifest: the prompt is hashed from the rubric's rendering of a fixed sample item.
    public init(rubric: Rubric, settings: JudgeSettings, endpoint: String) throws {
        let sample = GenerationRecord(instruction: "instruction 指令", input: "input", referenceOutput: "reference", generateOutput: "output")
        let prompt = try rubric.messages(for: sample).map { "\($0.role)\u{0}\($0.content)" }.joined(separator: "\u{1}")
        self.init(mode: "judge", endpoint: endpoint, judgeModel: settings.model, rubric: rubric.name, rubricVersion: rubric.version,
                  promptSHA256: SHA256.hex(prompt), parameters: [
                      "temperature": "\(settings.temperature)", "max_tokens": "\(settings.maxTokens)",
                      "resamples": "\(settings.maxResamples)", "repair_turn": "\(settings.repairTurn)",
                  ])
    }

    private struct Fingerprinted: Encodable {
        var mode, endpoint, judgeModel, rubric, rubricVersion, promptSHA256: String
        var parameters: [String: String]
    }

    public func computeFingerprint() -> String {
        Self.canonicalHash(Fingerprinted(mode: mode, endpoint: endpoint, judgeModel: judgeModel, rubric: rubric,
                                         rubricVersion: rubricVersion, promptSHA256: promptSHA256, parameters: parameters))
    }

    public func differences(from new: JudgeRunManifest) -> [String] {
        var out = RunDifferences.value("scoring", mode, new.mode)
        out += RunDifferences.value("judge model", judgeModel, new.judgeModel)
        out += RunDifferences.value("judge endpoint", endpoint, new.endpoint)
        out += RunDifferences.value("rubric", rubric, new.rubric)
        if rubric == new.rubric && rubricVersion != new.rubricVersion {
            out.append("rubric '\(rubric)' text changed (version \(rubricVersion.prefix(12)) → \(new.rubricVersion.prefix(12)))")
        }
        if rubricVersion == new.rubricVersion && promptSHA256 != new.promptSHA256 { out.append("judge prompt text changed") }
        out += RunDifferences.values(parameters, new.parameters, label: "judge parameter")
        return out
    }
}
