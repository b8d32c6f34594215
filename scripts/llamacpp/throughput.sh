#!/usr/bin/env bash
# distill serve vs llama-server, 16 concurrent streaming clients, same model and prompts, ratio printed. Not in CI.
#   LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/llamacpp/throughput.sh [--clients 16] [--max-tokens 64] ...
# DISTILL defaults to .build/release/distill; PYTHON to /work/venv/bin/python (needs the openai package).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DISTILL="${DISTILL:-$PWD/.build/release/distill}"
export LLAMA_BIN="${LLAMA_BIN:-/work/llamacpp/llama_cpp_python-0.3.36/vendor/llama.cpp/build/bin}"
[ -x "$DISTILL" ] || { echo "no $DISTILL: run swift build -c release (or set DISTILL)" >&2; exit 1; }
[ -x "$LLAMA_BIN/llama-server" ] || { echo "no llama-server in $LLAMA_BIN (set LLAMA_BIN)" >&2; exit 1; }
exec "${PYTHON:-/work/venv/bin/python}" scripts/llamacpp/throughput.py "$@"
