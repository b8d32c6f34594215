/// SplitMix64 (Steele, Lea & Flood 2014): a tiny PRNG whose sequence is fixed by its seed on every platform, so
/// generated datasets, bootstrap intervals, k-shot picks and sampling are reproducible. Not for cryptography.
///
/// The one seeded generator of the package: DistillData, DistillHarvest, DistillML and DistillJudge all use it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range` (Lemire's multiply-shift; the tiny bias is irrelevant here and keeps the
    /// sequence independent of the standard library's algorithm, which may change between Swift versions).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next().multipliedFullWidth(by: span).high)
    }

    /// A uniform index in `0..<n` (n > 0), without modulo bias (the standard library's rejection sampling).
    public mutating func index(below n: Int) -> Int {
        Int(next(upperBound: UInt64(n)))
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
