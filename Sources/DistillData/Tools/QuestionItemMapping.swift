import Foundation

/// How the read-only source formats (`mc`, `reasoning`) become Alpaca items, which then convert like any other.
///
/// The gold answer is the whole `output`: a bare choice letter for multiple choice, the answer string for reasoning.
/// That is exactly what `distill judge --score choice|numeric|exact` reads from `reference_output`, so a converted
/// test set can be scored by rule after `distill generate`.
public enum QuestionItemMapping {
    /// The last paragraph of an English multiple-choice prompt.
    public static let englishChoiceRequest = "Answer with the letter of the correct choice."
    /// The last paragraph of a Chinese multiple-choice prompt.
    public static let chineseChoiceRequest = "请用正确选项的字母作答。"

    /// The question, a blank line, the choices one per line (`A. text`), a blank line and the request to answer with a
    /// letter (in Chinese when the question contains CJK ideographs); the output is the gold label.
    public static func alpaca(_ item: MultipleChoiceItem) -> InstructionRecord {
        let request = containsCJK(item.question) ? chineseChoiceRequest : englishChoiceRequest
        let instruction = [item.question, item.formattedChoices, request].joined(separator: AlpacaChatMapping.separator)
        return InstructionRecord(instruction: instruction, input: "", output: item.answer, id: item.id)
    }

    /// The question as the instruction and the gold answer as the output.
    public static func alpaca(_ item: ReasoningItem) -> InstructionRecord {
        InstructionRecord(instruction: item.question, input: "", output: item.answer, id: item.id)
    }

    /// Whether `text` contains a CJK ideograph (the unified blocks, extension A and later, and compatibility forms).
    public static func containsCJK(_ text: String) -> Bool {
        text.unicodeScalars.contains { s in
            switch s.value {
            case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F: return true
            default: return false
            }
        }
    }
}
