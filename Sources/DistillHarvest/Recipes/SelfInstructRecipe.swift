import DistillClient
import DistillData
import Foundation

/// `self-instruct` (Wang et al. 2023; Alpaca; seed 001): the teacher writes new instructions from `shots` seed
/// tasks per request; candidates are filtered by the usual heuristics (length, banned keywords, exact duplicates)
/// and dropped when ROUGE-L > `threshold` against any seed or kept instruction; the kept ones are then answered.
///
/// Outputs: `self-instruct.jsonl` (Alpaca rows: `id`, `instruction`, `input`, `output`), `self-instruct-tasks.jsonl`
/// (kept instructions with the round that produced them), `self-instruct-rejected.jsonl` (`instruction`,
/// `round`, `reason`).
public struct SelfInstructRecipe: HarvestRecipe {
    public let seeds: [InstructionItem]
    public let prompts: HarvestPrompts
    public let generation: HarvestGeneration
    public let target: Int
    public let shots: Int
    public let perRequest: Int
    public let threshold: Double
    public let maxRounds: Int
    public let seed: Int

    public init(seeds: [InstructionItem], prompts: HarvestPrompts, generation: HarvestGeneration, target: Int,
                shots: Int = 3, perRequest: Int = 8, threshold: Double = 0.7, maxRounds: Int? = nil, seed: Int = 0) {
        self.seeds = seeds
        self.prompts = prompts
        self.generation = generation
        self.target = max(1, target)
        self.shots = max(1, shots)
        self.perRequest = max(1, perRequest)
        self.threshold = threshold
        self.maxRounds = maxRounds ?? max(4, 3 * ((self.target + self.perRequest - 1) / self.perRequest))
        self.seed = seed
    }

    public var name: String { "self-instruct" }
    public var plannedRequests: Int { (target + perRequest - 1) / perRequest + target }
    public static let templateNames = ["self-instruct", "answer"]

    /// Words that mark tasks a text model cannot do (Self-Instruct's and Alpaca's filter list).
    static let banned = ["image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                         "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
                         "图片", "图像", "视频", "音频", "画一"]

    struct Task: Encodable {
        var id, instruction, input: String
        var round: Int
    }

    struct Rejected: Encodable {
        var instruction: String
        var round: Int
        var reason: String
    }

    struct Row: Encodable {
        var id, instruction, input, output: String
        var truncated: Bool? = nil
    }

    /// Why a candidate fails the heuristics, or nil if it passes.
    static func heuristicReason(_ instruction: String) -> String? {
        let tokens = RougeL.tokens(instruction)
        if tokens.count < 3 { return "too short (\(tokens.count) tokens)" }
        if tokens.count > 150 { return "too long (\(tokens.count) tokens)" }
        let lower = instruction.lowercased()
        let spaced = " " + tokens.joined(separator: " ") + " "
        for word in banned {
            // Latin words match whole words ("file" but not "profile"); CJK ones match anywhere.
            let hit = word.unicodeScalars.allSatisfy(\.isASCII) ? spaced.contains(" \(word) ") : lower.contains(word)
            if hit { return "mentions '\(word)' (a text model cannot do it)" }
        }
        if lower.hasPrefix("write a program") { return "starts with 'write a program'" }
        if let first = instruction.unicodeScalars.first, first.properties.generalCategory.isPunctuationOrSymbol {
            return "starts with punctuation"
        }
        return nil
    }

    /// `response_format` for an endpoint that enforces schemas: `{"instructions": [{"instruction", "input"}, …]}`,
    /// 1 to `perRequest` of them.
    static func responseFormat(_ perRequest: Int) -> ResponseFormat {
        .jsonSchema(name: "instructions", schemaJSON: #"{"type":"object","properties":{"instructions":{"type":"array","minItems":1,"#
            + #""maxItems":\#(perRequest),"items":{"type":"object","properties":{"instruction":{"type":"string"},"#
            + #""input":{"type":"string"}},"required":["instruction","input"],"additionalProperties":false}}},"#
            + #""required":["instructions"],"additionalProperties":false}"#, strict: true)
    }

    /// Parses instructions from a reply: a JSON array (of strings or {"instruction","input"}) or an object holding
    /// one such array (what `responseFormat` asks for), else a numbered or bulleted list, with `Input:` lines
    /// attached to the instruction above them.
    static func parseCandidates(_ text: String) -> [(instruction: String, input: String)] {
        let body = HarvestRounds.unfenced(text)
        let json = body.data(using: .utf8).flatMap { try? JSONSerialization.jsonObject(with: $0) }
        let wrapped = (json as? [String: Any]).flatMap { o in o.count == 1 ? o.values.first as? [Any] : nil }
        if let array = json as? [Any] ?? wrapped {
            return array.compactMap { element in
                if let s = element as? String { return (s, "") }
                if let o = element as? [String: Any], let i = o["instruction"] as? String { return (i, o["input"] as? String ?? "") }
                return nil
            }
        }
        var out: [(String, String)] = []
        for rawLine in body.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let lower = line.lowercased()
            if lower.hasPrefix("input:") || line.hasPrefix("输入：") || line.hasPrefix("输入:") {
                let value = line.drop { $0 != ":" && $0 != "：" }.dropFirst().trimmingCharacters(in: .whitespaces)
                if !out.isEmpty, value.lowercased() != "<noinput>" { out[out.count - 1].1 = value }
                continue
            }
            // Strip "12.", "12)", "12、", "-", "*" and an "Instruction:" label.
            let digits = line.prefix { $0.isNumber }
            if !digits.isEmpty, let marker = line.dropFirst(digits.count).first, ".)、:".contains(marker) {
                line = String(line.dropFirst(digits.count + 1))
            } else if line.hasPrefix("- ") || line.hasPrefix("* ") {
                line = String(line.dropFirst(2))
            } else if !out.isEmpty {
                continue  // prose around the list
            }
            line = line.trimmingCharacters(in: .whitespaces)
            for label in ["Instruction:", "instruction:", "指令：", "指令:"] where line.hasPrefix(label) {
                line = String(line.dropFirst(label.count)).trimmingCharacters(in: .whitespaces)
            }
            if !line.isEmpty { out.append((line, "")) }
        }
        return out
    }

    /// The k-shot prompt of round r: `shots` seed tasks picked by a generator seeded with r.
    func prompt(round: Int) throws -> String {
        var rng = SplitMix64("self-instruct-\(round)", seed: seed)
        let picked = seeds.shuffled(using: &rng).prefix(shots)
        let examples = picked.enumerated().map { i, s in
            "\(i + 1). Instruction: \(s.instruction)" + (s.input.isEmpty ? "" : "\n   Input: \(s.input)")
        }.joined(separator: "\n")
        return try prompts.render("self-instruct", ["examples": examples, "num_tasks": String(perRequest)])
    }

    public func run(_ session: HarvestSession) async throws -> [String: [Data]] {
        guard !seeds.isEmpty else { throw HarvestError(.badInput, "self-instruct needs seed tasks (--seeds FILE)") }
        var index = RougeLIndex(threshold: threshold)
        var seen = Set<String>()
        for s in seeds {
            index.add(s.instruction)
            seen.insert(AnswerChecker.normalise(s.instruction))
        }
        var kept: [Task] = []
        var rejected: [Rejected] = []
        let perRequest = perRequest
        let rounds = try await HarvestRounds.collect(
            session, stage: "self-instruct", generation: generation, responseFormat: Self.responseFormat(perRequest),
            target: target, perRequest: perRequest, maxRounds: maxRounds, kept: { kept.count },
            prompt: { try prompt(round: $0) }
        ) { r, response in
            // A dry run has no real instructions: it counts one request per `perRequest` kept ones.
            let candidates = session.isDryRun
                ? (0..<perRequest).map { i in (seeds[(r * perRequest + i) % seeds.count].instruction + " #\(r).\(i)", "") }
                : Self.parseCandidates(response.text)
            for (instruction, input) in candidates where kept.count < target {
                if !session.isDryRun, let reason = Self.heuristicReason(instruction) {
                    rejected.append(Rejected(instruction: instruction, round: r, reason: reason))
                    continue
                }
                if !seen.insert(AnswerChecker.normalise(instruction)).inserted {
                    rejected.append(Rejected(instruction: instruction, round: r, reason: "exact duplicate"))
                    continue
                }
                if !session.isDryRun, let m = index.match(instruction) {
                    rejected.append(Rejected(instruction: instruction, round: r,
                                             reason: String(format: "ROUGE-L %.3f > %.2f against an earlier instruction", m.score, threshold)))
                    continue
                }
                index.add(instruction)
                kept.append(Task(id: "si-\(kept.count + 1)", instruction: instruction, input: input, round: r))
            }
        }
        if kept.count < target, session.stopped == nil, !session.isDryRun {
            session.note("self-instruct kept \(kept.count) of \(target) instructions: gave up after \(rounds) requests "
                + "(--max-rounds \(maxRounds)); \(rejected.count) candidates were rejected (see self-instruct-rejected.jsonl) — "
                + "raise --max-rounds or --rouge-threshold and run the same command to continue")
        }
        let answerTemplate = prompts
        var files = try await session.forEachItem(kept, id: \.id) { task in
            let prompt = try answerTemplate.render("answer", ["instruction": task.instruction, "input": task.input])
            let r = try await session.complete(item: task.id, stage: "answer", generation.request(prompt))
            var out = HarvestOutput()
            try out.add("self-instruct.jsonl", Row(id: task.id, instruction: task.instruction, input: task.input, output: r.text,
                                                   truncated: r.truncated))
            return out
        }
        files["self-instruct-tasks.jsonl"] = try kept.map { try JSONLines.encoder.encode($0) }
        files["self-instruct-rejected.jsonl"] = try rejected.map { try JSONLines.encoder.encode($0) }
        return files
    }
}
