import DistillML
import Foundation

/// The model-loading options that `generate`, `score`, `serve`, `train` and the benches share, declared once: which
/// model, how many threads, which arithmetic.
enum ModelOptions {
    static let model: Option<String> = .value("model", "M", default: ModelStore.defaultName, help: "GGUF file, HF directory, or known model name")
    static let threads: Option<Int> = .value("threads", "N", default: ProcessInfo.processInfo.activeProcessorCount, help: "threads for kernels and BLAS")
    static let precision: Option<LanguageModel.Precision> = .value("precision", "P", default: .fastest, help: "int8, weights or exact (see distill generate --help)")
}

/// `--precision int8|weights|exact` (default: the fastest this build has).
extension LanguageModel.Precision: OptionValue {}
extension LearningRateSchedule.Kind: OptionValue {}

/// `--recompute layers|none` (train and bench train): keep each layer's input only and run the layer again in the
/// backward pass, or keep every activation. Unset, both follow the base: layers over 4/8-bit blocks, else none.
enum RecomputeMode: String, CaseIterable, OptionValue {
    case layers, none

    /// Whether to recompute, given the option (nil when not given) and whether the base is quantised.
    static func layers(_ given: RecomputeMode?, quantizedBase: Bool) -> Bool {
        (given ?? (quantizedBase ? .layers : RecomputeMode.none)) == .layers
    }
}
