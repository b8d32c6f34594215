import Foundation

/// A multiple-choice question with labelled choices and the gold label (CommonsenseQA style):
/// `{"id","question","choices":[{"label","text"}],"answer"}`.
///
/// Also reads CommonsenseQA's native shape `{"id","question":{"stem","choices":[{"label","text"}]},"answerKey"}`.
/// Always writes the flat shape.
public struct MultipleChoiceItem: DatasetRecord, Hashable {
    /// One labelled option.
    public struct Choice: Codable, Sendable, Hashable {
        public var label: String
        public var text: String
        public init(label: String, text: String) {
            self.label = label
            self.text = text
        }
    }

    public var id: String
    public var question: String
    public var choices: [Choice]
    /// The gold choice's label ("C").
    public var answer: String

    public init(id: String, question: String, choices: [Choice], answer: String) {
        self.id = id
        self.question = question
        self.choices = choices
        self.answer = answer
    }

    enum CodingKeys: String, CodingKey { case id, question, choices, answer, answerKey }
    enum NativeQuestionKeys: String, CodingKey { case stem, choices }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        if let flat = try? c.decode(String.self, forKey: .question) {
            question = flat
            choices = try c.decode([Choice].self, forKey: .choices)
            answer = try c.decode(String.self, forKey: .answer)
        } else {
            let q = try c.nestedContainer(keyedBy: NativeQuestionKeys.self, forKey: .question)
            question = try q.decode(String.self, forKey: .stem)
            choices = try q.decode([Choice].self, forKey: .choices)
            answer = try c.decodeIfPresent(String.self, forKey: .answerKey)
                ?? c.decode(String.self, forKey: .answer)
        }
        guard choices.contains(where: { $0.label == answer }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.answer],
                debugDescription: "answer '\(answer)' is not one of the choice labels "
                    + choices.map(\.label).joined(separator: ", ")))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(question, forKey: .question)
        try c.encode(choices, forKey: .choices)
        try c.encode(answer, forKey: .answer)
    }

    /// The text of the gold choice.
    public var answerText: String? { choices.first { $0.label == answer }?.text }

    /// The choices one per line, `A. text`, as prompts show them.
    public var formattedChoices: String { choices.map { "\($0.label). \($0.text)" }.joined(separator: "\n") }

    public static let kindDescription = "multiple-choice item"
    public static let expectedShape =
        #"{"id": "...", "question": "...", "choices": [{"label": "A", "text": "..."}, ...], "answer": "A"}"#

    public var textFields: [(field: String, text: String)] {
        [("question", question)] + choices.enumerated().map { ("choices[\($0.offset)].text", $0.element.text) }
    }
}
