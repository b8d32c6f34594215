#!/usr/bin/env bash
# Greedy agreement of `distill generate --exact` with llama.cpp's llama-server on the embedded Q4_1 model, an F32 copy,
# merged GGUFs from a short `distill train`, and base + GGUF LoRA (--lora). Needs a llama.cpp build (not in CI):
#   LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/llamacpp/agreement.sh [WORK_DIR]
# Optional: DISTILL (default .build/release/distill), MAX_TOKENS (48), THREADS (2), CASES ("(a),(c)" to pick some).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DISTILL="${DISTILL:-$PWD/.build/release/distill}"
export LLAMA_BIN="${LLAMA_BIN:-/work/llamacpp/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin}"
[ -x "$DISTILL" ] || { echo "no $DISTILL: run swift build -c release (or set DISTILL)" >&2; exit 1; }
[ -x "$LLAMA_BIN/llama-server" ] || { echo "no llama-server in $LLAMA_BIN (set LLAMA_BIN)" >&2; exit 1; }
PY="${PYTHON:-$(command -v python3)}"
exec "$PY" scripts/llamacpp/agreement.py "$@"
