import DistillData
import DistillML
import Foundation

/// `distill train --loss …`: which objective a run optimises, with its weights (training.md §2), checked.
struct TrainObjective: Sendable, Equatable {
    enum Loss: String, CaseIterable, Sendable {
        case ce, multitask, counterfactual, icl
        case klForward = "kl-forward", klReverse = "kl-reverse", js, skew, skewReverse = "skew-reverse", topk
    }

    var loss: Loss
    var alpha: Double
    var beta: Double
    var gamma: Double
    var skewAlpha: Double
    var temperature: Double
    var teacherModel: String?
    /// kl-forward from the teacher's top-k kept in this folder (computed once from --teacher-model, then reused).
    var teacherCache: String?
    var teacherTopK: Int
    var topKVariant: TopKDistillation
    /// Largest share of target positions whose teacher token has no student id before the run is refused.
    var maxMismatch: Double
    var answerPrefix: String
    var rationalePrefix: String
    var rationaleAfter: Bool
    var counterfactualForm: ObjectiveData.CounterfactualForm
    var zeroShot: Bool
    var holdOutTasks: [String]

    static let loss: Option<String> = .value("loss", "L", default: "ce", help: "objective: " + Loss.allCases.map(\.rawValue).joined(separator: " "))
    static let alpha: Option<Double> = .value("alpha", "A", default: 0.5, help: "α: CE weight against KD; answer vs rationale (multitask); MT vs CF")
    static let beta: Option<Double> = .value("beta", "B", default: 0.5, help: "β: JSD(β) mixture (js); predict vs explain in counterfactual's MT")
    static let gamma: Option<Double> = .value("gamma", "G", default: 0.5, help: "γ: factual vs counterfactual (counterfactual)")
    static let skewAlpha: Option<Double> = .value("skew-alpha", "A", default: 0.1, help: "skew KL mixture α (skew, skew-reverse; DistiLLM)")
    static let temperature: Option<Double> = .value("temperature", "T", default: 1, help: "KD temperature (soft term scaled by T²)")
    static let teacherModel: Option<String?> = .value("teacher-model", "M", help: "local teacher for kl-forward, kl-reverse, js, skew, skew-reverse (same vocabulary)")
    static let teacherCache: Option<String?> = .value("teacher-cache", "DIR", help: "kl-forward: the teacher's top-k logits per training token, computed once into DIR, reused by later runs")
    static let teacherTopk: Option<Int> = .value("teacher-topk", "K", default: 64, help: "ids kept per position in --teacher-cache (the rest as one tail bucket)")
    static let topkVariant: Option<String> = .value("topk-variant", "V", default: "tail", help: "topk: tail, renorm, renorm-teacher or zero (training.md §2.6)")
    static let maxMismatch: Option<Double> = .value("max-mismatch", "F", default: 0.2, help: "topk: refuse when more than this share of positions do not map")
    static let answerPrefix: Option<String> = .value("answer-prefix", "S", default: "predict: ", help: "multitask/counterfactual: answer-task prompt prefix")
    static let rationalePrefix: Option<String> = .value("rationale-prefix", "S", default: "explain: ", help: "multitask/counterfactual: rationale-task prefix")
    static let rationaleAfter: Option<Bool> = .flag("rationale-after", help: "multitask: one target, answer then rationale (arXiv 2406.14511)")
    static let counterfactualForm: Option<String> = .value("counterfactual-form", "F", default: "input", help: "counterfactual: input (arXiv 2504.16056) or scott")
    static let zeroShot: Option<Bool> = .flag("zero-shot", help: "icl: the student sees no demonstrations (context distillation)")
    static let holdOutTasks: Option<[String]> = .list("hold-out-tasks", "TASK", help: "icl: these tasks form the eval set (Meta-ICT's unseen tasks)")

    static let options: [any CommandOption] = [
        loss,
        alpha,
        beta,
        gamma,
        skewAlpha,
        temperature,
        teacherModel,
        teacherCache,
        teacherTopk,
        topkVariant,
        maxMismatch,
        answerPrefix,
        rationalePrefix,
        rationaleAfter,
        counterfactualForm,
        zeroShot,
        holdOutTasks,
    ]

    init(_ args: ParsedArguments) throws {
        let name = args[Self.loss]
        guard let l = Loss(rawValue: name) else {
            throw UsageError("--loss: '\(name)' is not one of " + Loss.allCases.map(\.rawValue).joined(separator: ", "))
        }
        loss = l
        alpha = args[Self.alpha]
        beta = args[Self.beta]
        gamma = args[Self.gamma]
        skewAlpha = args[Self.skewAlpha]
        temperature = args[Self.temperature]
        maxMismatch = args[Self.maxMismatch]
        for (n, v) in [("alpha", alpha), ("beta", beta), ("gamma", gamma), ("skew-alpha", skewAlpha), ("max-mismatch", maxMismatch)]
        where !(0...1).contains(v) {
            throw UsageError("--\(n) must be within 0…1 (got \(v))")
        }
        guard temperature > 0, temperature.isFinite else { throw UsageError("--temperature must be positive") }
        teacherModel = args[Self.teacherModel]
        let variant = args[Self.topkVariant]
        guard let v = TopKDistillation(rawValue: variant) else {
            throw UsageError("--topk-variant: '\(variant)' is not one of " + TopKDistillation.allCases.map(\.rawValue).joined(separator: ", "))
        }
        topKVariant = v
        answerPrefix = args[Self.answerPrefix]
        rationalePrefix = args[Self.rationalePrefix]
        rationaleAfter = args[Self.rationaleAfter]
        let form = args[Self.counterfactualForm]
        guard let f = ObjectiveData.CounterfactualForm(rawValue: form) else {
            throw UsageError("--counterfactual-form: '\(form)' is not input or scott")
        }
        counterfactualForm = f
        zeroShot = args[Self.zeroShot]
        holdOutTasks = args[Self.holdOutTasks].flatMap { $0.split(separator: ",").map(String.init) }
        teacherCache = args[Self.teacherCache]
        teacherTopK = args[Self.teacherTopk]
        guard teacherTopK > 0 else { throw UsageError("--teacher-topk must be at least 1") }
        if teacherCache != nil, loss != .klForward {
            throw UsageError("--teacher-cache keeps the teacher's top-k and its tail mass, which is enough for --loss kl-forward only; "
                + "\(loss.rawValue) needs the teacher's whole distribution: drop --teacher-cache")
        }
        if divergence != nil, teacherModel == nil, teacherCache == nil {
            throw UsageError("--loss \(loss.rawValue) needs --teacher-model M (a local teacher with the student's vocabulary)")
        }
        if teacherModel != nil, divergence == nil {
            throw UsageError("--teacher-model is for --loss kl-forward, kl-reverse, js, skew or skew-reverse")
        }
    }

    /// The dense divergence, for the KD losses.
    var divergence: Divergence? {
        switch loss {
        case .klForward: .forwardKL
        case .klReverse: .reverseKL
        case .js: .jsd(beta: beta)
        case .skew: .skewKL(alpha: skewAlpha)
        case .skewReverse: .skewReverseKL(alpha: skewAlpha)
        default: nil
        }
    }

    /// The rationale objective whose items `ObjectiveData` builds.
    var dataKind: ObjectiveData.Kind? { ObjectiveData.Kind(rawValue: loss.rawValue) }

    var dataSettings: ObjectiveData.Settings? {
        guard let kind = dataKind else { return nil }
        var s = ObjectiveData.Settings(kind: kind)
        s.alpha = alpha
        s.beta = beta
        s.gamma = gamma
        s.answerPrefix = answerPrefix
        s.rationalePrefix = rationalePrefix
        s.rationaleAfter = rationaleAfter
        s.counterfactualForm = counterfactualForm
        s.zeroShot = zeroShot
        return s
    }

    /// What goes into the run's fingerprint (only the settings the objective reads).
    var fingerprinted: [String: String] {
        var p = ["loss": loss.rawValue]
        switch loss {
        case .ce: break
        case .multitask:
            p["alpha"] = "\(alpha)"; p["answer_prefix"] = answerPrefix; p["rationale_prefix"] = rationalePrefix
            p["rationale_after"] = "\(rationaleAfter)"
        case .counterfactual:
            p["alpha"] = "\(alpha)"; p["beta"] = "\(beta)"; p["gamma"] = "\(gamma)"; p["answer_prefix"] = answerPrefix
            p["rationale_prefix"] = rationalePrefix; p["counterfactual_form"] = counterfactualForm.rawValue
        case .icl:
            p["zero_shot"] = "\(zeroShot)"; p["hold_out_tasks"] = holdOutTasks.sorted().joined(separator: ",")
        case .klForward, .klReverse, .js, .skew, .skewReverse:
            p["alpha"] = "\(alpha)"; p["temperature"] = "\(temperature)"; p["teacher_model"] = teacherModel ?? ""
            if teacherCache != nil { p["teacher_cache_topk"] = "\(teacherTopK)" }
            if loss == .js { p["beta"] = "\(beta)" }
            if loss == .skew || loss == .skewReverse { p["skew_alpha"] = "\(skewAlpha)" }
        case .topk:
            p["alpha"] = "\(alpha)"; p["temperature"] = "\(temperature)"; p["topk_variant"] = topKVariant.rawValue
        }
        return p
    }

    /// The prompt format the trained model expects (written to DIR/prompt-format.json for generate and serve).
    var promptFormat: [String: String]? {
        switch loss {
        case .multitask, .counterfactual:
            ["objective": loss.rawValue, "answer_prefix": answerPrefix, "rationale_prefix": rationalePrefix,
             "target": rationaleAfter ? "answer then rationale" : "answer"]
        case .icl: ["objective": "icl", "demonstrations": zeroShot ? "none (context-distilled)" : "k-shot prompt as harvested"]
        default: nil
        }
    }
}
