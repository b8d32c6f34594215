import DistillData
import Foundation

/// Builds the training items of the rationale objectives straight from what harvest writes (training.md §2.2, §2.3,
/// §2.8): `multitask` (Distilling Step-by-Step), `counterfactual` (SCOTT or arXiv 2504.16056) and `icl`.
///
/// Rows are recognised by their keys, so several harvest files mix in one run:
/// - cot.jsonl `question, rationale, answer` (`correct: false` rows skipped), critique-revise.jsonl
///   `question, answer, revised` (the revised explanation is the rationale), critique-revise's sft.jsonl
///   `instruction, output, answer`;
/// - counterfactual.jsonl `question, choices, answer, wrong_answer, wrong_text, explanation`;
/// - icl.jsonl `instruction, input, output, demonstrations, prompt, task`.
public struct ObjectiveData: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case multitask, counterfactual, icl
    }

    /// SCOTT: the wrong rationale teacher-forced in the target, loss on the wrong answer only; `input`: arXiv
    /// 2504.16056, the wrong rationale in the prompt.
    public enum CounterfactualForm: String, Sendable, CaseIterable {
        case scott
        case input
    }

    public struct Settings: Sendable {
        public var kind: Kind
        /// Multitask: α·L_answer + (1−α)·L_rationale. Counterfactual: α·L_MT + (1−α)·L_CF.
        public var alpha = 0.5
        /// Counterfactual's L_MT = β·L_predict + (1−β)·L_explain.
        public var beta = 0.5
        /// Counterfactual's L_CF = γ·L_factual + (1−γ)·L_counterfactual.
        public var gamma = 0.5
        public var answerPrefix = "predict: "
        public var rationalePrefix = "explain: "
        /// One target, answer then rationale (arXiv 2406.14511), instead of two tasks.
        public var rationaleAfter = false
        public var counterfactualForm = CounterfactualForm.input
        /// ICL context distillation: the student sees the query without the demonstrations.
        public var zeroShot = false

        public init(kind: Kind) { self.kind = kind }
    }

    /// One conversation of one objective term; with `graded`, only the assistant's tokens from that suffix on
    /// carry a loss (SCOTT's answer-only counterfactual labels).
    public struct Item: Sendable {
        public var conversation: TrainingConversation
        public var term: Int
        public var graded: String?
        public var task: String?
    }

    public var items: [Item] = []
    public var termNames: [String] = []
    public var termWeights: [Double] = []

    /// Reads `files` and builds the items of `s.kind`; a file none of whose rows fits the objective is refused.
    public static func build(files: [String], settings s: Settings) throws -> ObjectiveData {
        var rationales: [Rationale] = []
        var counterfactuals: [(row: JSONValue, file: String, line: Int)] = []
        var icl: [(row: JSONValue, file: String, line: Int)] = []
        for file in files {
            var used = 0, seen = 0
            try DatasetReader(path: file).forEachValue { item in
                seen += 1
                let v = item.value
                func str(_ k: String) -> String? { v[k]?.stringValue }
                if v["correct"] == .bool(false) { return }
                if v["wrong_answer"] != nil, str("explanation") != nil, str("question") != nil {
                    counterfactuals.append((v, file, item.line)); used += 1
                } else if v["demonstrations"] != nil, str("output") != nil {
                    icl.append((v, file, item.line)); used += 1
                } else if let q = str("question") ?? str("instruction"), let a = str("answer"),
                          let r = str("rationale") ?? str("revised") ?? str("output") {
                    rationales.append(Rationale(id: str("id") ?? "", question: q, rationale: r, answer: a, file: file, line: item.line))
                    used += 1
                }
            }
            guard used > 0 else {
                throw DataError(file: file, "none of its \(seen) rows fits --loss \(s.kind.rawValue); it reads harvest's cot.jsonl, "
                    + "critique-revise.jsonl / sft.jsonl (question, rationale or revised, answer), counterfactual.jsonl and icl.jsonl")
            }
        }
        var d = ObjectiveData()
        switch s.kind {
        case .multitask:
            guard !rationales.isEmpty else { throw DataError(file: files[0], "--loss multitask needs rows with question, rationale and answer (harvest cot or critique-revise)") }
            if s.rationaleAfter {
                (d.termNames, d.termWeights) = terms(s)
                for r in rationales { d.add(r.user(s.answerPrefix), r.answer + "\n" + r.rationale, 0, r.file, r.line) }
            } else {
                (d.termNames, d.termWeights) = terms(s)
                d.addMultitask(rationales, s, first: 0)
            }
        case .counterfactual:
            guard !counterfactuals.isEmpty else {
                throw DataError(file: files[0], "--loss counterfactual needs harvest's counterfactual.jsonl among the --data files")
            }
            (d.termNames, d.termWeights) = terms(s)
            d.addMultitask(rationales, s, first: 0)
            // Factual: the gold rationale (from cot / critique-revise rows of the same id) leading to the gold answer.
            var byID: [String: Rationale] = [:]
            for r in rationales where byID[r.id] == nil { byID[r.id] = r }
            for r in rationales.sorted(by: { ($0.file, $0.line) < ($1.file, $1.line) }) where byID[r.id]?.line == r.line && byID[r.id]?.file == r.file {
                d.add("[factual] " + r.question, "[factual] \(r.rationale) So the answer is \(r.answer).", 2, r.file, r.line)
            }
            for (v, file, line) in counterfactuals {
                let q = v["question"]?.stringValue ?? "", why = v["explanation"]?.stringValue ?? ""
                let wrong = v["wrong_answer"]?.stringValue ?? "", wrongText = v["wrong_text"]?.stringValue ?? ""
                let prompt = "[counterfactual] Question: \(q)\nChoices: \(Self.choices(v["choices"]))"
                let answer = wrongText.isEmpty ? wrong : "(\(wrong)) \(wrongText)"
                switch s.counterfactualForm {
                case .input:
                    d.add(prompt + "\nRationale: \(why)", "[counterfactual] So the answer is \(answer).", 3, file, line)
                case .scott:
                    d.add(prompt, "[counterfactual] \(why) So the answer is \(answer).", 3, file, line, graded: " \(answer).")
                }
            }
        case .icl:
            guard !icl.isEmpty else { throw DataError(file: files[0], "--loss icl needs harvest's icl.jsonl among the --data files") }
            (d.termNames, d.termWeights) = terms(s)
            for (v, file, line) in icl {
                let instruction = v["instruction"]?.stringValue ?? "", input = v["input"]?.stringValue ?? ""
                let query = AlpacaChatMapping.userTurn(instruction: instruction, input: input)
                let user = s.zeroShot ? query : (v["prompt"]?.stringValue ?? query)
                d.add(user, v["output"]?.stringValue ?? "", 0, file, line, task: v["task"]?.stringValue)
            }
        }
        // Terms with no item drop out; the rest keep their ratios (weights renormalised to sum to 1).
        let present = Set(d.items.map(\.term))
        let total = d.termWeights.indices.filter { present.contains($0) }.reduce(0.0) { $0 + d.termWeights[$1] }
        d.termWeights = d.termWeights.indices.map { present.contains($0) && total > 0 ? d.termWeights[$0] / total : 0 }
        return d
    }

    /// The term names and weights `build` gives for `s` (before terms without rows drop out).
    public static func terms(_ s: Settings) -> (names: [String], weights: [Double]) {
        switch s.kind {
        case .multitask: s.rationaleAfter ? (["answer_rationale"], [1]) : (["answer", "rationale"], [s.alpha, 1 - s.alpha])
        case .counterfactual: (["predict", "explain", "factual", "counterfactual"],
                               [s.alpha * s.beta, s.alpha * (1 - s.beta), (1 - s.alpha) * s.gamma, (1 - s.alpha) * (1 - s.gamma)])
        case .icl: (["icl"], [1])
        }
    }

    struct Rationale {
        var id, question, rationale, answer, file: String
        var line: Int
        func user(_ prefix: String) -> String { prefix + question }
    }

    mutating func addMultitask(_ rows: [Rationale], _ s: Settings, first: Int) {
        for r in rows {
            add(r.user(s.answerPrefix), r.answer, first, r.file, r.line)
            add(r.user(s.rationalePrefix), r.rationale, first + 1, r.file, r.line)
        }
    }

    mutating func add(_ user: String, _ assistant: String, _ term: Int, _ file: String, _ line: Int, graded: String? = nil,
                      task: String? = nil) {
        guard !assistant.allSatisfy(\.isWhitespace) else { return }
        items.append(Item(conversation: TrainingConversation(messages: [.user(user), .assistant(assistant)], file: file, line: line),
                          term: term, graded: graded, task: task))
    }

    /// `(A) text (B) text` from a harvest `choices` array of `{label, text}`.
    static func choices(_ v: JSONValue?) -> String {
        guard case .array(let list)? = v else { return v?.stringValue ?? "" }
        return list.map { "(\($0["label"]?.stringValue ?? "")) \($0["text"]?.stringValue ?? "")" }.joined(separator: " ")
    }
}
