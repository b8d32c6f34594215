/// Everything a tokenizer file says, gathered in one place; the GGUF and `tokenizer.json`
/// loaders fill one in and `Tokenizer` is built from it.
struct TokenizerDefinition {
    /// Vocabulary strings by id (byte-level spelling: `Ġ` for a space). Gaps are empty strings.
    var tokens: [String] = []
    /// Merge rules in rank order.
    var merges: [(String, String)] = []
    /// Tokens split out of raw text before BPE (control and user-defined tokens).
    var added: [SpecialTokenMatcher.Entry] = []
    /// Control tokens: skipped by `decode(_:skipSpecial: true)`.
    var specialIDs: Set<Int> = []
    var preTokenizer: PreTokenizerKind = .gpt2
    /// Qwen2's `tokenizer.json` NFC-normalizes text between added tokens.
    var normalizeNFC = false
    var addPrefixSpace = false
    var ignoreMerges = false
    var bosID: Int?
    var eosID: Int?
    var unknownID: Int?
    /// What BPE emits for a byte missing from the vocabulary: HF's `model.unk_token`. Nil (GGUF,
    /// and HF files with `unk_token: null`) drops such bytes, as both references do.
    var bpeUnknownID: Int?
    var paddingID: Int?
    /// Ids put before / after the text when encoding with `addSpecial` (e.g. Llama 3's BOS).
    var prefixIDs: [Int] = []
    var suffixIDs: [Int] = []
    var chatTemplate: String?
}
