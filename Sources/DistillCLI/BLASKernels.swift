import DistillML
import Foundation

extension DistillCLI {
    /// Makes OpenBLAS run the kernels this CPU can: when the kernels in use are older than the CPU (Debian's 0.3.21
    /// falls back to SSE3 `Prescott` kernels on CPUs newer than itself, ~5× slower sgemm; an environment may pin
    /// `OPENBLAS_CORETYPE=Haswell` on an AVX-512 CPU, as this project's machines do), sets `OPENBLAS_CORETYPE` and
    /// re-executes the binary once, since OpenBLAS reads it only when it loads. The new process knows what it
    /// replaced (`OpenBLASCore.replacedCoreType`), and `bench` and `train` print it.
    ///
    /// `DISTILL_KEEP_BLAS=1` keeps whatever the library and the environment chose. Called only from the
    /// executable's `main`, never in tests.
    public static func adoptFasterBLASKernels(_ argv: [String]) {
        let env = ProcessInfo.processInfo.environment
        guard env["DISTILL_BLAS_REEXEC"] == nil, let core = OpenBLASCore.recommendedCoreType() else { return }
        let old = OpenBLASCore.current + (env["OPENBLAS_CORETYPE"] != nil ? ", from OPENBLAS_CORETYPE in the environment"
                                                                          : ", the library's own choice")
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("DISTILL_BLAS_REEXEC", old, 1)
        var cArgs: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments.first ?? "distill"] + argv).map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cArgs)
        // exec failed: carry on with the kernels we have.
        for p in cArgs { free(p) }
    }
}
