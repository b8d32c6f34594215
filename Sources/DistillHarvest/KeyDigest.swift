import DistillData
import Foundation

/// 16 bytes standing for a string in a set or an index, whatever the string's length: a key id (32 hex digits, as
/// `HarvestKey.id` makes them) as its own two words, any other string as the first 16 bytes of its SHA-256. Ordered
/// by the words, which for key ids is the ids' own order.
struct KeyDigest: Hashable, Comparable {
    var high: UInt64
    var low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The first 16 bytes of the SHA-256 of `s`, as two big-endian words.
    init(sha256Of s: String) {
        let hash = SHA256.hash(Data(s.utf8))
        high = hash[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        low = hash[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A key id's own 16 bytes; another string's SHA-256 (hand-made keys).
    init(keyID id: String) {
        let utf8 = Array(id.utf8)
        if utf8.count == 32, let h = Self.hexWord(utf8[0..<16]), let l = Self.hexWord(utf8[16..<32]) {
            self.init(high: h, low: l)
        } else {
            self.init(sha256Of: id)
        }
    }

    static func < (a: KeyDigest, b: KeyDigest) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// 16 lowercase hex digits as a word; nil for anything else.
    static func hexWord(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var v: UInt64 = 0
        for c in digits {
            switch c {
            case 0x30...0x39: v = v << 4 | UInt64(c - 0x30)
            case 0x61...0x66: v = v << 4 | UInt64(c - 0x61 + 10)
            default: return nil
            }
        }
        return v
    }
}
