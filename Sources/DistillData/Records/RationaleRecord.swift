import Foundation

/// A teacher's reasoning for a question: `{"id","question","rationale","answer","gold","correct"}`.
/// `answer` is what the rationale concluded, `gold` the known answer, `correct` whether they agree.
public struct RationaleRecord: DatasetRecord, Hashable {
    public var id: String
    public var question: String
    public var rationale: String
    public var answer: String
    public var gold: String
    public var correct: Bool

    public init(id: String, question: String, rationale: String, answer: String, gold: String, correct: Bool) {
        self.id = id
        self.question = question
        self.rationale = rationale
        self.answer = answer
        self.gold = gold
        self.correct = correct
    }

    public static let kindDescription = "rationale record"
    public static let expectedShape =
        #"{"id": "...", "question": "...", "rationale": "...", "answer": "...", "gold": "...", "correct": true}"#

    public var textFields: [(field: String, text: String)] {
        [("question", question), ("rationale", rationale), ("answer", answer), ("gold", gold)]
    }
}
