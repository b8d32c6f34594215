import Foundation

/// A model's output on a test item, in seed 000's format:
/// `{"instruction","input","reference_output","generate_output"}`.
public struct GenerationRecord: DatasetRecord, Hashable {
    public var instruction: String
    public var input: String
    public var referenceOutput: String
    public var generateOutput: String
    /// The item's task, when the test set names one (`category`): the report breaks scores down by it.
    public var category: String?

    public init(instruction: String, input: String, referenceOutput: String, generateOutput: String, category: String? = nil) {
        self.instruction = instruction
        self.input = input
        self.referenceOutput = referenceOutput
        self.generateOutput = generateOutput
        self.category = category
    }

    /// In seed 000's order, which `seedOrderJSON` writes.
    enum CodingKeys: String, CodingKey {
        case instruction, input, category
        case referenceOutput = "reference_output"
        case generateOutput = "generate_output"
    }

    /// One compact JSON line in seed 000's key order (`instruction`, `input`, `reference_output`, `generate_output`)
    /// rather than sorted, so `distill generate` output reads like the files users already have. (Foundation's
    /// JSONEncoder keeps no order without `.sortedKeys`; everything else uses the sorted `JSONLines.encoder`.)
    /// A `category` goes last, and only when there is one.
    public var seedOrderJSON: Data {
        var members: [JSONValue.Member] = [.init(CodingKeys.instruction.rawValue, .string(instruction)),
                                           .init(CodingKeys.input.rawValue, .string(input)),
                                           .init(CodingKeys.referenceOutput.rawValue, .string(referenceOutput)),
                                           .init(CodingKeys.generateOutput.rawValue, .string(generateOutput))]
        if let category { members.append(.init(CodingKeys.category.rawValue, .string(category))) }
        return JSONValue.object(members).compactData()
    }

    public static let kindDescription = "generation record"
    public static let expectedShape =
        #"{"instruction": "...", "input": "...", "reference_output": "...", "generate_output": "..."}"#

    public var textFields: [(field: String, text: String)] {
        [("instruction", instruction), ("input", input), ("reference_output", referenceOutput),
         ("generate_output", generateOutput)]
    }
}
