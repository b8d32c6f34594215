import Foundation

/// A deterministic teacher for the harvest recipes and the LLM judge, to run behind a `TeacherStandIn`: it reads
/// which prompt it was sent (the repository's `prompts/*.txt`) and answers the way a competent teacher would, so a
/// whole pipeline runs end to end on loopback. Same request, same reply: nothing depends on timing or arrival order.
///
/// - `cot-reason` / `cot-answer`: reasoning that ends in the gold answer of a question it was told about, then that
///   answer (so answer-verified CoT keeps the path); an unknown question gets "unknown".
/// - `explain`, `critique`, `revise`, `counterfactual`: short explanations naming the answer or the wrong option.
/// - `generate-data`: a JSON array of as many English → Chinese samples as asked, distinct per request seed.
/// - a judge rubric (a system message with the `{"reason": …, "Name": <lo-hi>}` reply format): a strict JSON
///   verdict, each score drawn from a hash of the rated text, so different answers get different scores.
/// - anything else: the gold answer of a known question inside the prompt, else a short fixed reply.
public struct RecipeTeacher: Sendable {
    /// Gold answers by question text, longest question first (so no question shadows a longer one containing it).
    public let answers: [(question: String, answer: String)]

    public init(answers: [String: String]) {
        self.answers = answers.map { ($0.key, $0.value) }
            .sorted { $0.question.utf8.count != $1.question.utf8.count ? $0.question.utf8.count > $1.question.utf8.count
                                                                       : $0.question < $1.question }
    }

    /// The handler to give `TeacherStandIn(handler:)`.
    public var handler: @Sendable (StandInRequest) async -> StandInReply {
        let teacher = self
        return { request in teacher.reply(to: request) }
    }

    public func reply(to request: StandInRequest) -> StandInReply {
        let json = request.json ?? [:]
        let messages = (json["messages"] as? [[String: Any]] ?? []).map {
            (role: $0["role"] as? String ?? "", content: $0["content"] as? String ?? "")
        }
        // Without a seed, generate-data rounds differ by arrival order (only such a request depends on it).
        let text = self.text(messages: messages, seed: json["seed"] as? Int ?? request.sequence)
        let words = text.split(whereSeparator: \.isWhitespace).count
        return .chat([text], promptTokens: 20, completionTokens: max(1, words), finishReason: "stop")
    }

    /// The reply text for a conversation (the last user message decides, a judge's system message first).
    public func text(messages: [(role: String, content: String)], seed: Int) -> String {
        let system = messages.first { $0.role == "system" }?.content ?? ""
        let user = messages.last { $0.role == "user" }?.content ?? ""
        if let criteria = Self.criteria(in: system) { return verdict(criteria, rating: user) }
        if user.contains("Therefore, the answer is") { return " \(answer(in: user) ?? "unknown")." }
        if user.contains("Let's think step by step.") {
            return "First, read what is asked. Then work it out step by step. So the result is \(answer(in: user) ?? "unknown")."
        }
        if user.contains("Critique the explanation") {
            return "The explanation repeats the answer without saying why; it should name the fact that decides it."
        }
        if user.contains("Rewrite the explanation") {
            return "The answer is \(field("Correct answer:", in: user)) because it is what the question describes; "
                + "the other options do not fit."
        }
        if user.contains("Explain, in a few sentences") {
            return "The answer is \(field("Correct answer:", in: user)) because that is what it says."
        }
        if user.contains("Suppose someone picked") {
            let picked = user.components(separatedBy: "Suppose someone picked \"").dropFirst().first?
                .prefix { $0 != "\"" } ?? ""
            return "Someone might choose \(picked) because it sounds related to the question at first sight."
        }
        if let n = Self.samplesAsked(user) { return Self.samples(n, seed: seed) }
        return answer(in: user) ?? "好的 OK."
    }

    /// The gold answer of the first (longest) known question found in `prompt`.
    func answer(in prompt: String) -> String? {
        answers.first { prompt.contains($0.question) }?.answer
    }

    /// The rest of the line after `label` in `prompt`.
    func field(_ label: String, in prompt: String) -> String {
        guard let r = prompt.range(of: label) else { return "the given one" }
        return prompt[r.upperBound...].prefix { $0 != "\n" }.trimmingCharacters(in: .whitespaces)
    }

    // MARK: - Judge

    /// The criteria and scale of a rubric's reply format (`"Name": <lo-hi>`), if `system` shows one.
    static func criteria(in system: String) -> [(name: String, low: Int, high: Int)]? {
        guard system.contains("\"reason\": \"<") else { return nil }
        var out: [(String, Int, Int)] = []
        var rest = Substring(system)
        while let open = rest.range(of: "\": <") {
            let before = rest[..<open.lowerBound]
            guard let quote = before.lastIndex(of: "\"") else { break }
            let name = String(before[before.index(after: quote)...])
            let scale = rest[open.upperBound...].prefix { $0 != ">" }.split(separator: "-").compactMap { Int($0) }
            if scale.count == 2, !name.isEmpty, name != "reason" { out.append((name, scale[0], scale[1])) }
            rest = rest[open.upperBound...]
        }
        return out.isEmpty ? nil : out
    }

    func verdict(_ criteria: [(name: String, low: Int, high: Int)], rating: String) -> String {
        var parts = ["\"reason\": \"A fixed verdict from the stand-in teacher.\""]
        for (i, c) in criteria.enumerated() {
            let span = UInt64(max(1, c.high - c.low + 1))
            let score = c.low + Int(Self.fnv1a(rating + "#\(i)") % span)
            parts.append("\"\(c.name)\": \(score)")
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// FNV-1a over UTF-8: stable across processes (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ s: String) -> UInt64 {
        s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    // MARK: - generate-data

    static func samplesAsked(_ prompt: String) -> Int? {
        guard let r = prompt.range(of: "Write "), prompt.contains("new samples") else { return nil }
        return Int(prompt[r.upperBound...].prefix { $0.isNumber })
    }

    static let pairs: [(String, String)] = [
        ("I like cats.", "我喜欢猫。🐱"), ("The sky is blue today.", "今天天空是蓝色的。"),
        ("Where is the station?", "车站在哪里？"), ("We drink tea every morning.", "我们每天早上喝茶。☕"),
        ("This book is very interesting.", "这本书很有意思。"), ("It is raining outside.", "外面在下雨。"),
        ("My brother plays football.", "我弟弟踢足球。⚽"), ("Please close the door.", "请关上门。"),
    ]

    /// `n` English → Chinese samples as one JSON array, distinct for each request seed.
    static func samples(_ n: Int, seed: Int) -> String {
        let rows = (0..<max(1, n)).map { i -> String in
            let k = seed &* 31 &+ i
            let (en, zh) = pairs[((k % pairs.count) + pairs.count) % pairs.count]
            return "{\"input\": \"(\(seed).\(i)) \(en)\", \"output\": \"（\(seed).\(i)）\(zh)\"}"
        }
        return "[" + rows.joined(separator: ", ") + "]"
    }
}
