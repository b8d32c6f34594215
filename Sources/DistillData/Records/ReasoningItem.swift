import Foundation

/// A question with a verifiable gold answer (synthetic arithmetic or date reasoning): `{"id","kind","question","answer"}`.
/// The keys match `MultipleChoiceItem`'s `question`/`answer`, so a CoT recipe can read either.
public struct ReasoningItem: DatasetRecord, Hashable {
    public var id: String
    /// `arithmetic` or `date`.
    public var kind: String
    public var question: String
    /// The gold answer, normalised: an integer (`-12`, `345`) or an ISO date (`2024-03-26`).
    public var answer: String

    public init(id: String, kind: String, question: String, answer: String) {
        self.id = id
        self.kind = kind
        self.question = question
        self.answer = answer
    }

    public static let kindDescription = "reasoning item"
    public static let expectedShape = #"{"id": "...", "kind": "arithmetic", "question": "...", "answer": "..."}"#

    public var textFields: [(field: String, text: String)] { [("question", question), ("answer", answer)] }
}
