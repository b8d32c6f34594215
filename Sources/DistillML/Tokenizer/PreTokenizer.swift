/// The hand-written pre-tokenizers: split text into the words BPE then merges inside.
///
/// Each family's regex is implemented as a scan over per-scalar character classes, so encoding
/// thousands of prompts needs no regex engine. Classes follow Oniguruma's Unicode semantics (what HF
/// `tokenizers` runs): `\p{L}` = general category L*, `\p{N}` = N*, `\s` = the White_Space property.
/// Sources of the patterns: HF `tokenizers` `ByteLevel` (GPT-2), llama.cpp `llama-vocab.cpp`
/// (`LLAMA_VOCAB_PRE_TYPE_LLAMA3`, `_QWEN2`, `_SMOLLM`), and the models' own `tokenizer.json`.
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// SmolLM / StarCoder: every `\p{N}` isolated first (HF `Digits(individual_digits)`), then GPT-2.
    case smollm
    /// Llama 3 (`llama-bpe`): `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|`
    /// ` ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen2: as Llama 3 but one digit per word (`\p{N}` instead of `\p{N}{1,3}`).
    case qwen2

    /// The kind named by GGUF `tokenizer.ggml.pre`, or nil when this engine does not implement it.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt2", "default": self = .gpt2
        case "smollm", "starcoder", "refact": self = .smollm
        case "llama-bpe", "llama3": self = .llama3
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        default: return nil
        }
    }
}

/// Per-scalar character classes the pre-tokenizers scan over.
enum CharClass {
    static let other: UInt8 = 0
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 3

    private static let ascii: [UInt8] = (0..<128).map { classifySlow(UInt32($0)) }

    /// The class of one scalar value; ASCII through a table, the rest through Unicode properties.
    @inline(__always)
    static func of(_ v: UInt32) -> UInt8 {
        v < 128 ? ascii[Int(v)] : classifySlow(v)
    }

    private static func classifySlow(_ v: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(v) else { return other }
        let p = scalar.properties
        if p.isWhitespace { return whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return number
        default:
            return other
        }
    }
}

/// Splits one segment (scalar values `v`, classes `c`) into word ranges of scalar indices.
struct PreTokenizer: Sendable {
    let kind: PreTokenizerKind

    private static let space: UInt32 = 0x20
    private static let apostrophe: UInt32 = 0x27

    /// Appends `(start, end)` scalar-index pairs covering `0..<v.count` in order.
    func split(_ v: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>, into words: inout [(Int, Int)]) {
        switch kind {
        case .gpt2:
            Self.gpt2(v, c, 0, v.count, &words)
        case .smollm:
            // Digits(individual_digits: true) first; the GPT-2 regex then runs inside each gap, so
            // its `(?!\S)` look-ahead sees the gap's end as the end of the text.
            var start = 0
            for i in 0..<v.count where c[i] == CharClass.number {
                if start < i { Self.gpt2(v, c, start, i, &words) }
                words.append((i, i + 1))
                start = i + 1
            }
            if start < v.count { Self.gpt2(v, c, start, v.count, &words) }
        case .llama3:
            Self.llama3(v, c, 0, v.count, maxDigits: 3, &words)
        case .qwen2:
            Self.llama3(v, c, 0, v.count, maxDigits: 1, &words)
        }
    }

    /// Length of the contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i`, or 0.
    /// With `foldCase`, matches as Oniguruma's `(?i:…)` does, including `ſ` (U+017F), which folds to `s`.
    @inline(__always)
    private static func contraction(_ v: UnsafeBufferPointer<UInt32>, _ i: Int, _ end: Int, foldCase: Bool) -> Int {
        guard v[i] == apostrophe, i + 1 < end else { return 0 }
        func lower(_ x: UInt32) -> UInt32 {
            guard foldCase else { return x }
            if x >= 0x41 && x <= 0x5A { return x + 0x20 }
            return x == 0x17F ? 0x73 : x
        }
        let a = lower(v[i + 1])
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        case 0x72, 0x76:  // r v + e
            return i + 2 < end && lower(v[i + 2]) == 0x65 ? 3 : 0
        case 0x6C:  // l + l
            return i + 2 < end && lower(v[i + 2]) == 0x6C ? 3 : 0
        default: return 0
        }
    }

    /// Index after the run of class `cls` starting at `i`.
    @inline(__always)
    private static func run(_ c: UnsafeBufferPointer<UInt8>, from i: Int, _ end: Int, _ cls: UInt8) -> Int {
        var k = i
        while k < end && c[k] == cls { k += 1 }
        return k
    }

    /// The whitespace tail shared by every family: `\s+(?!\S)|\s+` at `i` (a whitespace scalar).
    @inline(__always)
    private static func whitespaceRun(_ c: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let k = run(c, from: i, end, CharClass.whitespace)
        // Before a non-space, `\s+(?!\S)` backs off one scalar so it can lead the next word.
        if k < end && k - i >= 2 { return k - 1 }
        return k
    }

    private static func gpt2(_ v: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int,
                             _ words: inout [(Int, Int)]) {
        var i = lo
        while i < hi {
            let n = contraction(v, i, hi, foldCase: false)
            if n > 0 {
                words.append((i, i + n)); i += n; continue
            }
            // ` ?X+` for X in letters, numbers, others: one leading U+0020 joins the word.
            var j = i
            if v[i] == space && i + 1 < hi && c[i + 1] != CharClass.whitespace { j = i + 1 }
            let end: Int
            if c[j] == CharClass.whitespace {
                end = whitespaceRun(c, i, hi)
            } else {
                end = run(c, from: j + 1, hi, c[j])
            }
            words.append((i, end))
            i = end
        }
    }

    private static func isNewline(_ x: UInt32) -> Bool { x == 0x0A || x == 0x0D }

    private static func llama3(_ v: UnsafeBufferPointer<UInt32>, _ c: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int,
                               maxDigits: Int, _ words: inout [(Int, Int)]) {
        var i = lo
        while i < hi {
            let n = contraction(v, i, hi, foldCase: true)
            if n > 0 {
                words.append((i, i + n)); i += n; continue
            }
            let ci = c[i]
            var end: Int
            if ci == CharClass.letter {
                end = run(c, from: i + 1, hi, CharClass.letter)
            } else if ci != CharClass.number && !isNewline(v[i]) && i + 1 < hi && c[i + 1] == CharClass.letter {
                // `[^\r\n\p{L}\p{N}]?\p{L}+`: one non-letter, non-digit, non-newline scalar leads the word.
                end = run(c, from: i + 2, hi, CharClass.letter)
            } else if ci == CharClass.number {
                end = i + 1
                while end < hi && end - i < maxDigits && c[end] == CharClass.number { end += 1 }
            } else if ci == CharClass.other || (v[i] == space && i + 1 < hi && c[i + 1] == CharClass.other) {
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                end = run(c, from: i + 1, hi, CharClass.other)
                while end < hi && isNewline(v[end]) { end += 1 }
            } else {
                // `\s*[\r\n]+` ends just after the run's last newline; otherwise `\s+(?!\S)|\s+`.
                let k = run(c, from: i, hi, CharClass.whitespace)
                var lastNewline = -1
                var m = k - 1
                while m >= i {
                    if isNewline(v[m]) { lastNewline = m; break }
                    m -= 1
                }
                if lastNewline >= 0 {
                    end = lastNewline + 1
                } else {
                    end = whitespaceRun(c, i, hi)
                }
            }
            words.append((i, end))
            i = end
        }
    }
}
