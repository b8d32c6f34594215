import DistillML
import Foundation

extension DistillCLI {
    /// Makes OpenBLAS run the kernels this CPU can: when the library picked kernels older than the CPU (Debian's
    /// 0.3.21 does not know Sapphire Rapids and falls back to SSE3 `Prescott` kernels, ~5× slower sgemm), sets
    /// `OPENBLAS_CORETYPE` and re-executes the binary once, since OpenBLAS reads it only when it loads.
    ///
    /// A value already in the environment is always kept (some machines set it on purpose), and
    /// `DISTILL_KEEP_BLAS=1` turns this off. Called only from the executable's `main`, never in tests.
    public static func adoptFasterBLASKernels(_ argv: [String]) {
        let env = ProcessInfo.processInfo.environment
        guard env["DISTILL_KEEP_BLAS"] != "1", env["DISTILL_BLAS_REEXEC"] == nil,
              let core = OpenBLASCore.recommendedCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("DISTILL_BLAS_REEXEC", "1", 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments.first ?? "distill"] + argv).map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cArgs)
        // exec failed: carry on with the kernels we have.
        for p in cArgs { free(p) }
    }
}
