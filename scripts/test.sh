#!/usr/bin/env bash
# The test command: installs the system libraries if missing, fetches the embedded default model once (the parity
# tests use it; they skip, saying so, if it cannot be fetched), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
.build/debug/distill models pull || echo "test: could not fetch the default model; tests that need it will skip" >&2
# Three groups, so nothing measures time while something else eats the two cores: the compute-bound model tests
# (the engine's, and the server's, which run models and a timed fuzz),
# then everything else, then the transport tests whose assertions are about timing (timeouts, pacing at 600 RPM,
# Retry-After dates counted in whole seconds).
timing='DistillHTTPTests|PacingTests|TeacherClientTests'
swift test --skip-build --filter 'DistillMLTests|DistillServeTests' "$@"
swift test --skip-build --skip DistillMLTests --skip DistillServeTests --skip "$timing" "$@"
# The HTTP parser's fuzz test is CPU-bound: run it alone, not beside the timing tests of its own target.
swift test --skip-build --filter "$timing" --skip RequestParserFuzzTests "$@"
swift test --skip-build --filter RequestParserFuzzTests "$@"
