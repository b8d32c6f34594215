import DistillData
import Foundation

/// What produced a judge folder, written next to the journal (`judge-manifest.json`) so the report can print the
/// judge, rubric and inputs, and raise the preference-leakage warnings. Holds no key: only the variable's name.
public struct JudgeManifest: Codable, Sendable, Equatable {
    public struct Input: Codable, Sendable, Equatable {
        public var label: String
        public var path: String
        public var sha256: String
        public var items: Int
        public init(label: String, path: String, sha256: String, items: Int) {
            self.label = label
            self.path = path
            self.sha256 = sha256
            self.items = items
        }
    }

    public var judgeModel: String
    public var endpoint: String
    public var keyEnv: String?
    public var rubric: String
    public var rubricVersion: String
    public var criteria: [String]
    public var scaleMin: Int
    public var scaleMax: Int
    public var replyFormat: String
    public var temperature: Double
    public var repeats: Int
    public var inputs: [Input]
    /// The teacher's label among the inputs, and its API model name, for retention and leakage checks.
    public var teacherLabel: String?
    public var teacherModel: String?
    public var baselineLabel: String?
    /// The user says the references are the teacher's own outputs.
    public var referenceFromTeacher: Bool

    public init(judgeModel: String, endpoint: String, keyEnv: String?, rubric: String, rubricVersion: String, criteria: [String],
                scaleMin: Int, scaleMax: Int, replyFormat: String, temperature: Double, repeats: Int, inputs: [Input],
                teacherLabel: String?, teacherModel: String?, baselineLabel: String?, referenceFromTeacher: Bool) {
        self.judgeModel = judgeModel
        self.endpoint = endpoint
        self.keyEnv = keyEnv
        self.rubric = rubric
        self.rubricVersion = rubricVersion
        self.criteria = criteria
        self.scaleMin = scaleMin
        self.scaleMax = scaleMax
        self.replyFormat = replyFormat
        self.temperature = temperature
        self.repeats = repeats
        self.inputs = inputs
        self.teacherLabel = teacherLabel
        self.teacherModel = teacherModel
        self.baselineLabel = baselineLabel
        self.referenceFromTeacher = referenceFromTeacher
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, rubric, criteria, temperature, repeats, inputs
        case judgeModel = "judge_model"
        case keyEnv = "key_env"
        case rubricVersion = "rubric_version"
        case scaleMin = "scale_min"
        case scaleMax = "scale_max"
        case replyFormat = "reply_format"
        case teacherLabel = "teacher_label"
        case teacherModel = "teacher_model"
        case baselineLabel = "baseline_label"
        case referenceFromTeacher = "reference_from_teacher"
    }

    public static let fileName = "judge-manifest.json"

    public static func read(from dir: String) throws -> JudgeManifest? {
        let path = dir + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(JudgeManifest.self, from: data)
        } catch {
            throw DataError(file: path, "not a judge manifest: \(JSONLines.describe(error))")
        }
    }

    public func write(to dir: String) throws {
        let e = JSONLines.encoder
        e.outputFormatting.insert(.prettyPrinted)
        try JSONLines.writeAtomically(try e.encode(self), to: dir + "/" + Self.fileName)
    }
}
