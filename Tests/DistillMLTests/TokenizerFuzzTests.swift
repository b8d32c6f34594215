import Foundation
import Testing
@testable import DistillML

/// Opt-in wide check: random strings from every Unicode plane, made by
/// `make_tokenizer_fixture.py --fuzz N OUT.json`, against the same four reference tokenizers.
/// Run with `TOKENIZER_FUZZ_FILE=OUT.json`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOKENIZER_FUZZ_FILE"] != nil))
struct TokenizerFuzzTests {
    @Test func randomStringsMatchAllReferences() throws {
        let path = ProcessInfo.processInfo.environment["TOKENIZER_FUZZ_FILE"] ?? ""
        let corpus = try JSONDecoder().decode(TokenizerFixtures.Corpus.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let smol = try TokenizerFixtures.smolLM2.get()
        let smolDigits = try Tokenizer(tokenizerJSONAt: TokenizerFixtures.path("smollm2/tokenizer.json"), preTokenizer: .smollm)
        let qwen2 = try TokenizerFixtures.qwen2.get()
        let llama3 = try TokenizerFixtures.llama3.get()
        var checks: [(String, (TokenizerFixtures.Case) -> [Int], (String) -> [Int])] = [
            ("smollm2/gpt2", \.ids, { smol.encode($0, addSpecial: true) }),
            ("smollm2/digits", \.ids_pre, { smolDigits.encode($0, addSpecial: true) }),
            ("qwen2", \.qwen2, { qwen2.encode($0, addSpecial: false) }),
            ("llama3", \.llama3, { llama3.encode($0, addSpecial: true) }),
        ]
        if TokenizerGGUFTests.haveModel {
            let native = try Tokenizer(ggufAt: TokenizerGGUFTests.modelPath)
            let asTransformers = try Tokenizer(ggufAt: TokenizerGGUFTests.modelPath, preTokenizer: .gpt2)
            checks.append(("gguf/smollm", \.ids_pre, { native.encode($0, addSpecial: true) }))
            checks.append(("gguf/gpt2", \.ids, { asTransformers.encode($0, addSpecial: true) }))
        }
        // Where the references disagree on NFC itself (HF's tables predate Unicode 10, e.g. U+0D3C
        // has combining class 0 there), the Swift side follows the current standard, as Python does.
        let nfcAgreed = corpus.cases.filter { $0.nfc_agrees ?? true }
        for (name, expected, actual) in checks {
            let cases = name == "qwen2" ? nfcAgreed : corpus.cases
            let (count, report) = TokenizerFixtures.mismatches(cases, expected: expected, actual: actual)
            print("fuzz \(name): \(cases.count - count) of \(cases.count) identical"
                  + (name == "qwen2" ? " (\(corpus.cases.count - cases.count) left out: HF NFC ≠ Unicode NFC)" : ""))
            #expect(count == 0, "\(name): \(count) differ:\(report)")
        }
        let decodeMismatches = corpus.cases.filter { smol.decode($0.ids) != $0.decoded }.count
        #expect(decodeMismatches == 0)
    }
}
