// swift-tools-version:6.2
import Foundation
import PackageDescription

// The engine's kernels are written for 8-wide SIMD: on x86-64 they are compiled for AVX2+FMA (Haswell, 2013, and
// every x86 server since). DISTILL_PORTABLE=1 builds for the x86-64 baseline instead: it has no FMA instruction, so
// Swift's fused multiply-adds become library calls and decoding is ~20× slower (for CPUs without AVX2 only).
// AVX2 builds also get the int8-activation kernels (DISTILL_AVX2), which use the AVX2 intrinsics directly.
// The AVX-512 VNNI int8 kernels are a module of their own compiled for Cascade Lake (Swift sets the target CPU per
// module, not per function); DistillML calls into it only after checking the CPU's flags.
#if arch(x86_64)
let portable = ProcessInfo.processInfo.environment["DISTILL_PORTABLE"] == "1"
let engineCPU: [String] = portable ? [] : ["-target-cpu", "haswell", "-DDISTILL_AVX2"]
let avx512CPU: [String] = portable ? [] : ["-target-cpu", "cascadelake", "-DDISTILL_AVX512"]
#else
let engineCPU: [String] = []
let avx512CPU: [String] = []
#endif

/// distill: distil a teacher behind an OpenAI-compatible API into a small local student.
/// Layers go bottom-up (see DESIGN.md); no module reaches upward. No package dependencies:
/// C libraries come in only through the two system-library targets.
let package = Package(
    name: "distill",
    products: [
        .executable(name: "distill", targets: ["distill"]),
        .library(name: "DistillKit", targets: ["DistillHTTP", "DistillData", "DistillOpenAI", "DistillClient", "DistillHarvest", "DistillML",
                                               "DistillJudge", "DistillServe"]),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "DistillHTTP", dependencies: ["CCurl"]),
        // Optimised even in debug builds: data tools stream multi-GB files byte by byte.
        .target(name: "DistillData", swiftSettings: [.unsafeFlags(["-O"])]),
        // The OpenAI wire format, both sides: the teacher client and `distill serve` (and the test stand-ins).
        .target(name: "DistillOpenAI", dependencies: ["DistillData"]),
        .target(name: "DistillClient", dependencies: ["DistillHTTP", "DistillData", "DistillOpenAI"]),
        .target(name: "DistillHarvest", dependencies: ["DistillClient", "DistillData", "DistillOpenAI"]),
        // Kernels are compiled optimised even in debug builds: the parity tests run real models.
        .target(name: "DistillMLAVX512", swiftSettings: [.unsafeFlags(["-O"] + avx512CPU)]),
        .target(name: "DistillML", dependencies: ["COpenBLAS", "DistillData", "DistillMLAVX512"],
                swiftSettings: [.unsafeFlags(["-O"] + engineCPU)]),
        .target(name: "DistillJudge", dependencies: ["DistillClient", "DistillData"]),
        // `distill serve`: the engine behind the OpenAI protocol (continuous batching, constrained decoding).
        // Optimised in debug builds too: the constrained decoder walks the vocabulary for every token.
        .target(name: "DistillServe", dependencies: ["DistillHTTP", "DistillML", "DistillOpenAI", "DistillData"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        // Compiled for the baseline: it checks that the CPU has what the engine was compiled for (EngineCPU).
        .target(name: "DistillCLI", dependencies: ["DistillHTTP", "DistillData", "DistillClient", "DistillHarvest", "DistillML", "DistillJudge",
                                                   "DistillServe"],
                swiftSettings: engineCPU.isEmpty ? [] : [.define("DISTILL_ENGINE_AVX2")]),
        .executableTarget(name: "distill", dependencies: ["DistillCLI"]),
        // Test helpers only: no non-test target imports it.
        .target(name: "DistillTestSupport", dependencies: ["DistillHTTP", "DistillData", "DistillClient", "DistillHarvest", "DistillML", "DistillOpenAI"]),
        .testTarget(name: "DistillHTTPTests", dependencies: ["DistillHTTP", "DistillTestSupport"]),
        .testTarget(name: "DistillDataTests", dependencies: ["DistillData", "DistillTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DistillClientTests", dependencies: ["DistillClient", "DistillTestSupport"]),
        .testTarget(name: "DistillHarvestTests", dependencies: ["DistillHarvest", "DistillClient", "DistillTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DistillMLTests", dependencies: ["DistillML", "DistillTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DistillJudgeTests", dependencies: ["DistillJudge", "DistillTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DistillServeTests", dependencies: ["DistillServe", "DistillOpenAI", "DistillTestSupport"]),
        .testTarget(name: "DistillCLITests", dependencies: ["DistillCLI", "DistillTestSupport", "distill"]),
    ]
)
