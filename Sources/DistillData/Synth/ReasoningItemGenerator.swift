/// Generates reasoning questions with verifiable gold answers — multi-step arithmetic word problems and date
/// arithmetic ("What date is 45 days after 2024-02-10?") — so chain-of-thought answers can be checked against
/// ground truth (seed 001's temporal-reasoning example). The same seed gives the same items on every machine.
public struct ReasoningItemGenerator: Sendable {
    /// Which questions to make.
    public enum Kind: String, Sendable, CaseIterable {
        case arithmetic, date, mixed
    }

    public let seed: UInt64
    private var rng: SplitMix64
    private var index = 0

    public init(seed: UInt64) {
        self.seed = seed
        rng = SplitMix64(seed: seed)
    }

    /// The next `count` items of `kind`.
    public mutating func items(_ kind: Kind, count: Int) -> [ReasoningItem] {
        (0..<count).map { _ in next(kind) }
    }

    /// The next item; `mixed` alternates at random between arithmetic and date questions.
    public mutating func next(_ kind: Kind) -> ReasoningItem {
        index += 1
        let concrete: Kind = kind == .mixed ? (rng.int(0...1) == 0 ? .arithmetic : .date) : kind
        let (question, answer) = concrete == .arithmetic ? arithmetic() : date()
        return ReasoningItem(id: "\(concrete.rawValue)-\(seed)-\(index)", kind: concrete.rawValue,
                             question: question, answer: answer)
    }

    private mutating func r(_ range: ClosedRange<Int>) -> Int { rng.int(range) }

    /// Multi-step integer word problems and expressions; each template states its formula.
    private mutating func arithmetic() -> (String, String) {
        switch r(0...7) {
        case 0:  // a − b + c·d
            let a = r(20...200), b = r(1...a), c = r(2...9), d = r(2...24)
            return ("A shop has \(a) apples. It sells \(b) in the morning and then receives \(c) boxes of \(d) apples each. "
                    + "How many apples does it have now?", "\(a - b + c * d)")
        case 1:  // a − b·c + d
            let b = r(2...6), c = r(5...40), a = b * c + r(0...100), d = r(10...200)
            return ("小明有\(a)元，买了\(b)本书，每本\(c)元，后来妈妈又给了他\(d)元。他现在有多少元？", "\(a - b * c + d)")
        case 2:  // (a + b)·c − d
            let a = r(2...60), b = r(2...60), c = r(2...12), d = r(1...300)
            return ("Compute (\(a) + \(b)) × \(c) − \(d).", "\((a + b) * c - d)")
        case 3:  // v·h + w·k
            let v = r(40...120), h = r(1...6), w = r(30...100), k = r(1...5)
            return ("A train travels at \(v) km/h for \(h) hours, then at \(w) km/h for \(k) hours. "
                    + "How many kilometres does it travel in total?", "\(v * h + w * k)")
        case 4:  // n / g + x
            let g = r(2...9), q = r(3...15), x = r(1...6)
            return ("There are \(g * q) students split equally into \(g) groups. Then \(x) more students join each group. "
                    + "How many students are in each group now?", "\(q + x)")
        case 5:  // a·b − c + d
            let a = r(3...20), b = r(4...30), c = r(1...(a * b / 2)), d = r(1...80)
            return ("一个果园有\(a)排树，每排\(b)棵。砍掉了\(c)棵，又种了\(d)棵。现在果园里有多少棵树？", "\(a * b - c + d)")
        case 6:  // a·b − c/d + e
            let a = r(2...30), b = r(2...30), d = r(2...9), q = r(1...20), e = r(1...99)
            return ("Compute \(a) × \(b) − \(d * q) ÷ \(d) + \(e).", "\(a * b - q + e)")
        default:  // t + u − f (may go below zero)
            let t = r(-15...20), u = r(1...15), f = r(1...30)
            return ("The temperature was \(t)°C at dawn. It rose \(u) degrees by noon and then fell \(f) degrees by midnight. "
                    + "What was the temperature at midnight, in °C?", "\(t + u - f)")
        }
    }

    private mutating func randomDate() -> CivilDate {
        let y = r(1990...2035), m = r(1...12)
        return CivilDate(year: y, month: m, day: r(1...CivilDate.daysIn(month: m, year: y)))
    }

    /// Day arithmetic on ISO dates; answers are ISO dates, day counts or weekday names.
    private mutating func date() -> (String, String) {
        let d = randomDate()
        switch r(0...5) {
        case 0:
            let n = r(1...400)
            return ("What date is \(n) days after \(d)? Answer in YYYY-MM-DD format.", "\(d.adding(days: n))")
        case 1:
            let n = r(1...400)
            return ("What date was \(n) days before \(d)? Answer in YYYY-MM-DD format.", "\(d.adding(days: -n))")
        case 2:
            let e = d.adding(days: r(1...900))
            return ("How many days are there from \(d) to \(e)? Count \(e) but not \(d).", "\(e.dayNumber - d.dayNumber)")
        case 3:
            return ("What day of the week was \(d)? Answer with the English weekday name.", d.weekday)
        case 4:
            let n = r(1...200)
            return ("\(d)之后\(n)天是哪一天？请用YYYY-MM-DD格式回答。", "\(d.adding(days: n))")
        default:
            let w = r(1...20), k = r(0...6)
            return ("A project starts on \(d) and takes \(w) weeks and \(k) days. On what date does it end? "
                    + "(It ends that many days after the start.) Answer in YYYY-MM-DD format.", "\(d.adding(days: 7 * w + k))")
        }
    }
}
