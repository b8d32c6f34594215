import Foundation

/// A model's output on a test item, in seed 000's format:
/// `{"instruction","input","reference_output","generate_output"}`.
public struct GenerationRecord: DatasetRecord, Hashable {
    public var instruction: String
    public var input: String
    public var referenceOutput: String
    public var generateOutput: String

    public init(instruction: String, input: String, referenceOutput: String, generateOutput: String) {
        self.instruction = instruction
        self.input = input
        self.referenceOutput = referenceOutput
        self.generateOutput = generateOutput
    }

    enum CodingKeys: String, CodingKey {
        case instruction, input
        case referenceOutput = "reference_output"
        case generateOutput = "generate_output"
    }

    public static let kindDescription = "generation record"
    public static let expectedShape =
        #"{"instruction": "...", "input": "...", "reference_output": "...", "generate_output": "..."}"#

    public var textFields: [(field: String, text: String)] {
        [("instruction", instruction), ("input", input), ("reference_output", referenceOutput),
         ("generate_output", generateOutput)]
    }
}
