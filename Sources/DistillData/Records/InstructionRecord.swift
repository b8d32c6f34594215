import Foundation

/// An Alpaca instruction item: `{"instruction","input","output"}`.
///
/// `input` may be absent in files (it is then ""); it is always written. `system` is the optional system prompt
/// LLaMA-Factory's Alpaca format allows; it is written only when present, so plain Alpaca files stay plain and a
/// chat item with a system turn converts to Alpaca and back without loss. `id` is an optional item identifier (kept
/// when a multiple-choice or reasoning item is converted), likewise written only when present; readers that do not
/// know it (e.g. `distill generate`) ignore it.
public struct InstructionRecord: DatasetRecord, Hashable {
    public var instruction: String
    public var input: String
    public var output: String
    public var system: String?
    public var id: String?

    public init(instruction: String, input: String = "", output: String, system: String? = nil, id: String? = nil) {
        self.instruction = instruction
        self.input = input
        self.output = output
        self.system = system
        self.id = id
    }

    enum CodingKeys: String, CodingKey { case instruction, input, output, system, id }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        instruction = try c.decode(String.self, forKey: .instruction)
        input = try c.decodeIfPresent(String.self, forKey: .input) ?? ""
        output = try c.decode(String.self, forKey: .output)
        system = try c.decodeIfPresent(String.self, forKey: .system)
        id = try c.decodeIfPresent(String.self, forKey: .id)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(instruction, forKey: .instruction)
        try c.encode(input, forKey: .input)
        try c.encode(output, forKey: .output)
        try c.encodeIfPresent(system, forKey: .system)
        try c.encodeIfPresent(id, forKey: .id)
    }

    public static let kindDescription = "Alpaca instruction item"
    public static let expectedShape = #"{"instruction": "...", "input": "..." (optional), "output": "..."}"#

    public var textFields: [(field: String, text: String)] {
        var f: [(field: String, text: String)] = [("instruction", instruction), ("input", input), ("output", output)]
        if let system { f.append(("system", system)) }
        return f
    }
}
