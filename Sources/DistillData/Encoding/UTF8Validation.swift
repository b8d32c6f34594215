import Foundation

/// Finds the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
/// so an error can say exactly where a file went wrong instead of "the data couldn't be read".
public enum UTF8Validation {
    /// Where invalid UTF-8 starts: byte offset from the start of the buffer and the 1-based line it is on.
    public struct Position: Sendable, Equatable {
        public var offset: Int
        public var line: Int
        public var byte: UInt8
    }

    /// The first invalid sequence in `data`, or nil when it is all valid UTF-8.
    public static func firstInvalidByte(in data: Data) -> Position? {
        data.withUnsafeBytes { raw in firstInvalidByte(in: raw.bindMemory(to: UInt8.self)) }
    }

    /// The first invalid sequence in `bytes`, or nil when it is all valid UTF-8.
    public static func firstInvalidByte(in bytes: UnsafeBufferPointer<UInt8>) -> Position? {
        var i = 0
        var line = 1
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                if b == 0x0A { line += 1 }
                i += 1
                continue
            }
            let len = sequenceLength(bytes, at: i)
            if len == 0 { return Position(offset: i, line: line, byte: b) }
            i += len
        }
        return nil
    }

    /// The length of the valid multi-byte sequence starting at `i`, or 0 if it is invalid.
    static func sequenceLength(_ s: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let b0 = s[i]
        let n = s.count
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < n && s[i + k] >= lo && s[i + k] <= hi
        }
        switch b0 {
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }
}
