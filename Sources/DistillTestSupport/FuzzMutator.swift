import DistillData
import Foundation

/// Mutates valid inputs into hostile ones for the readers' fuzz tests, reproducibly (seeded SplitMix64).
///
/// Mutations: bit flips, byte inserts and deletes, truncation, splicing two seeds, little-endian integer fields
/// overwritten with edge values (0, −1, 2^31, 2^63−1, …) and decimal numbers in text replaced by edge values. A
/// `focus` range (a binary header) receives most of the mutations, so they hit counts and offsets, not weights.
public struct FuzzMutator {
    private var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Little-endian integer edge values written over binary fields.
    static let binaryEdges: [UInt64] = [0, 1, .max, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
                                        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 100_000, 1 << 40, 3]
    /// Decimal edge values written over numbers in text.
    static let textEdges = ["0", "-1", "2147483648", "9223372036854775807", "9223372036854775808", "100000000000",
                            "-9223372036854775808", "1e308", "0.5", "4294967296", "18446744073709551615", "100000"]

    public mutating func int(below n: Int) -> Int { n <= 1 ? 0 : rng.index(below: n) }

    /// One hostile variant of `seeds[k]` (k chosen at random), 1–4 stacked mutations.
    public mutating func mutate(_ seeds: [[UInt8]], focus: Range<Int>? = nil) -> [UInt8] {
        var bytes = seeds[int(below: seeds.count)]
        for _ in 0...int(below: 4) { mutateOnce(&bytes, seeds: seeds, focus: focus) }
        return bytes
    }

    private mutating func position(_ count: Int, _ focus: Range<Int>?) -> Int {
        if let focus, int(below: 5) > 0 {
            let lo = min(focus.lowerBound, count), hi = min(focus.upperBound, count)
            if hi > lo { return lo + int(below: hi - lo) }
        }
        return int(below: max(count, 1))
    }

    private mutating func mutateOnce(_ b: inout [UInt8], seeds: [[UInt8]], focus: Range<Int>?) {
        switch int(below: 8) {
        case 0:  // bit flip
            guard !b.isEmpty else { return }
            b[position(b.count, focus)] ^= UInt8(1) << UInt8(int(below: 8))
        case 1:  // byte insert (a random byte or a structural one)
            let structural: [UInt8] = Array("{}[]\",:\\0\n\r ".utf8)
            let v = int(below: 2) == 0 ? UInt8(int(below: 256)) : structural[int(below: structural.count)]
            b.insert(v, at: min(position(b.count, focus), b.count))
        case 2:  // byte delete
            guard !b.isEmpty else { return }
            b.remove(at: position(b.count, focus))
        case 3:  // truncation
            b = Array(b.prefix(int(below: b.count + 1)))
        case 4:  // splice: a prefix of this input, a suffix of another
            let other = seeds[int(below: seeds.count)]
            b = Array(b.prefix(int(below: b.count + 1))) + Array(other.suffix(int(below: other.count + 1)))
        case 5, 6:  // integer field set to an edge value (LE, 1/2/4/8 bytes)
            guard !b.isEmpty else { return }
            let width = [1, 2, 4, 8][int(below: 4)]
            let at = position(b.count, focus)
            let v = Self.binaryEdges[int(below: Self.binaryEdges.count)]
            for k in 0..<width where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        default:  // a decimal number in text set to an edge value
            replaceNumber(&b, from: position(b.count, focus))
        }
    }

    /// Replaces the first decimal number at or after `from` (wrapping around) with an edge value.
    private mutating func replaceNumber(_ b: inout [UInt8], from: Int) {
        func isDigit(_ x: UInt8) -> Bool { x >= 0x30 && x <= 0x39 }
        guard !b.isEmpty else { return }
        var s = -1
        for k in 0..<b.count {
            let i = (from + k) % b.count
            if isDigit(b[i]) { s = i; break }
        }
        guard s >= 0 else { return }
        while s > 0, isDigit(b[s - 1]) { s -= 1 }
        var e = s
        while e < b.count, isDigit(b[e]) || b[e] == 0x2E || b[e] == 0x65 || b[e] == 0x2D { e += 1 }
        b.replaceSubrange(s..<e, with: Array(Self.textEdges[int(below: Self.textEdges.count)].utf8))
    }
}

/// The time each fuzz target runs and a tally of what it saw; `DISTILL_FUZZ_SECONDS` sets the time (default 1.5 s).
public struct FuzzRun {
    public let name: String
    public let seconds: Double
    public private(set) var inputs = 0
    public private(set) var accepted = 0
    public private(set) var refused = 0
    private let start = Date()

    public init(_ name: String, defaultSeconds: Double = 1.5) {
        self.name = name
        let env = ProcessInfo.processInfo.environment["DISTILL_FUZZ_SECONDS"].flatMap(Double.init)
        seconds = env ?? defaultSeconds
    }

    /// Whether to try another input (time left), counting the one about to run.
    public mutating func next() -> Bool {
        guard Date().timeIntervalSince(start) < seconds else { return false }
        inputs += 1
        return true
    }

    public mutating func record(accepted ok: Bool) { if ok { accepted += 1 } else { refused += 1 } }

    /// The line the suite prints: `fuzz NAME: N inputs in S s (A accepted, R refused with a located error)`.
    public var summary: String {
        String(format: "fuzz %@: %d inputs in %.1f s (%d accepted, %d refused with a located error)", name, inputs,
               Date().timeIntervalSince(start), accepted, refused)
    }

    /// Peak resident memory of this process in bytes (getrusage), for the allocation bound.
    public static var peakResidentBytes: Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Int(usage.ru_maxrss) * 1024
    }
}
